"""What every search backend does, whatever it runs on: seed documents through the SearchIndex
port, ask through the SearchBackend port.

Use it by subclassing `SearchBehaviour` in a test module that provides two function-scoped
fixtures over an EMPTY store: `search_index` (a SearchIndex whose writes are visible to
searches once put_* returns) and `search_backend` (a SearchBackend over the same store).
Importing this module does nothing else (no database, no client).

Where backends may differ (scores, the order of equally good matches), tests assert on sets
and on the orders the contract defines; ties always break by id ascending."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from msgspec.structs import replace

from domain.errors import ValidationError
from projections.search import (
    FACET_INSURANCE,
    FACET_RATING,
    FACET_SPECIALIZATION,
    GeoPoint,
    NoteDocument,
    NoteScope,
    ProviderDocument,
    ProviderQuery,
    ProviderResults,
    SearchBackend,
    SearchIndex,
    SlotDocument,
    SlotQuery,
)

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
BRANDENBURG_GATE = GeoPoint(lat=52.5163, lon=13.3777)


def ids_in_order(count: int) -> list[UUID]:
    """Fresh ids, ascending: the tie-breaker's order."""
    return sorted(uuid.uuid4() for _ in range(count))


def provider(
    name: str, *, id: UUID | None = None, version: int = 1, **fields: Any
) -> ProviderDocument:
    values: dict[str, Any] = {
        "specializations": [],
        "bio": "",
        "education": "",
        "languages": [],
        "location": None,
        "address": None,
        "insurances": [],
        "fee_amount": None,
        "fee_currency": None,
        "rating": None,
        "accepting_new_patients": True,
        "time_zone": "Europe/Berlin",
        **fields,
    }
    return ProviderDocument(id=id or uuid.uuid4(), version=version, name=name, **values)


def slot(
    provider_id: UUID,
    start: datetime,
    *,
    free: int = 1,
    status: str = "open",
    types: Sequence[str] = ("in_person",),
    location: str | None = None,
    version: int = 1,
    id: UUID | None = None,
) -> SlotDocument:
    return SlotDocument(
        id=id or uuid.uuid4(),
        version=version,
        provider_id=provider_id,
        start=start,
        end=start + timedelta(minutes=30),
        appointment_types=list(types),
        location=location,
        room=None,
        status=status,
        capacity=max(free, 1),
        free_seats=free,
    )


def note(
    patient_id: UUID,
    provider_id: UUID,
    notes: str,
    *,
    version: int = 6,
    appointment_id: UUID | None = None,
    completed_at: datetime = NOW - DAY,
) -> NoteDocument:
    return NoteDocument(
        appointment_id=appointment_id or uuid.uuid4(),
        version=version,
        patient_id=patient_id,
        provider_id=provider_id,
        completed_at=completed_at,
        notes=notes,
    )


def ids(results: ProviderResults) -> list[UUID]:
    return [hit.provider.id for hit in results.hits]


def facet(results: ProviderResults, name: str) -> dict[str, int]:
    """A facet's non-zero counts (a backend may also list values counted 0)."""
    return {f.value: f.count for f in results.facets.get(name, []) if f.count}


def plain(fragment: str) -> str:
    return re.sub(r"</?em>", "", fragment)


class SearchBehaviour:
    # --- text -------------------------------------------------------------------------------

    def test_a_misspelt_name_still_finds_the_provider(
        self, search_index: SearchIndex, search_backend: SearchBackend
    ) -> None:
        ada = provider("Dr Ada Lovelace", specializations=["Cardiology"])
        grace = provider("Dr Grace Hopper", specializations=["Dermatology"])
        marie = provider("Dr Marie Curie", specializations=["Radiology"])
        search_index.put_providers([ada, grace, marie])

        for text in ("Lovlace", "lovelace", "LOVELACE"):
            found = search_backend.providers(ProviderQuery(q=text), NOW)
            assert set(ids(found)) == {ada.id}, text
            assert found.total == 1
            assert found.hits[0].score is not None

    def test_a_name_match_ranks_above_a_specialization_match_above_a_bio_match(
        self, search_index: SearchIndex, search_backend: SearchBackend
    ) -> None:
        by_name = provider("Dr Mira Heart", specializations=["Dermatology"])
        by_specialty = provider("Dr Olu Bakare", specializations=["Heart surgery"])
        by_bio = provider(
            "Dr Ines Vogel", specializations=["Pulmonology"], bio="Cares for the heart and lungs."
        )
        unrelated = provider("Dr Tom Stone", specializations=["Neurology"], bio="Migraine clinic.")
        search_index.put_providers([by_bio, unrelated, by_specialty, by_name])

        found = search_backend.providers(ProviderQuery(q="heart"), NOW)

        assert ids(found) == [by_name.id, by_specialty.id, by_bio.id]
        assert found.total == 3

    # --- filters ----------------------------------------------------------------------------

    @staticmethod
    def _directory(search_index: SearchIndex) -> dict[str, ProviderDocument]:
        people = {
            "a": provider(
                "Dr Anna Adler",
                specializations=["Cardiology"],
                insurances=["AOK", "TK"],
                rating=Decimal("4.6"),
            ),
            "b": provider(
                "Dr Ben Brandt",
                specializations=["Dermatology"],
                insurances=["TK"],
                rating=Decimal("3.2"),
                accepting_new_patients=False,
            ),
            "c": provider(
                "Dr Cleo Conrad",
                specializations=["Cardiology", "Sports medicine"],
                insurances=["Barmer"],
            ),
            "d": provider(
                "Dr Dan Dietz",
                specializations=["Neurology"],
                insurances=["AOK"],
                rating=Decimal("2.1"),
            ),
        }
        search_index.put_providers(list(people.values()))
        return people

    def test_each_filter_narrows_the_providers(
        self, search_index: SearchIndex, search_backend: SearchBackend
    ) -> None:
        p = self._directory(search_index)

        def found(**query: Any) -> set[UUID]:
            results = search_backend.providers(ProviderQuery(**query), NOW)
            assert results.total == len(results.hits)
            return set(ids(results))

        assert found() == {p["a"].id, p["b"].id, p["c"].id, p["d"].id}
        assert found(specializations=["Cardiology"]) == {p["a"].id, p["c"].id}
        assert found(specializations=["Cardiology", "Neurology"]) == {
            p["a"].id,
            p["c"].id,
            p["d"].id,
        }
        assert found(insurances=["TK"]) == {p["a"].id, p["b"].id}
        assert found(min_rating=Decimal(3)) == {p["a"].id, p["b"].id}
        assert found(accepting_new_patients=False) == {p["b"].id}
        assert found(accepting_new_patients=True) == {p["a"].id, p["c"].id, p["d"].id}
        assert found(specializations=["Cardiology"], insurances=["AOK"]) == {p["a"].id}
        assert found(specializations=["Cardiology"], q="Conrad") == {p["c"].id}

    def test_facets_count_with_every_filter_except_their_own(
        self, search_index: SearchIndex, search_backend: SearchBackend
    ) -> None:
        p = self._directory(search_index)

        unfiltered = search_backend.providers(ProviderQuery(), NOW)
        assert facet(unfiltered, FACET_SPECIALIZATION) == {
            "Cardiology": 2,
            "Dermatology": 1,
            "Sports medicine": 1,
            "Neurology": 1,
        }
        assert facet(unfiltered, FACET_INSURANCE) == {"AOK": 2, "TK": 2, "Barmer": 1}
        assert facet(unfiltered, FACET_RATING) == {"4+": 1, "3+": 1, "2+": 1, "unrated": 1}

        picked = search_backend.providers(
            ProviderQuery(specializations=["Cardiology"], insurances=["AOK"]), NOW
        )
        assert ids(picked) == [p["a"].id]
        # Specializations of the AOK-insured (a, d); insurances of the cardiologists (a, c).
        assert facet(picked, FACET_SPECIALIZATION) == {"Cardiology": 1, "Neurology": 1}
        assert facet(picked, FACET_INSURANCE) == {"AOK": 1, "TK": 1, "Barmer": 1}
        assert facet(picked, FACET_RATING) == {"4+": 1}

        rated = search_backend.providers(
            ProviderQuery(specializations=["Cardiology"], min_rating=Decimal(3)), NOW
        )
        assert ids(rated) == [p["a"].id]
        assert facet(rated, FACET_SPECIALIZATION) == {"Cardiology": 1, "Dermatology": 1}
        assert facet(rated, FACET_RATING) == {"4+": 1, "unrated": 1}
        assert facet(rated, FACET_INSURANCE) == {"AOK": 1, "TK": 1}

    def test_matched_fields_come_back_highlighted(
        self, search_index: SearchIndex, search_backend: SearchBackend
    ) -> None:
        ada = provider(
            "Dr Ada Lovelace",
            specializations=["Cardiology"],
            bio="Runs a migraine clinic for adults.",
        )
        search_index.put_providers([ada])

        (by_specialty,) = search_backend.providers(ProviderQuery(q="cardiology"), NOW).hits
        assert any("<em>" in f for f in by_specialty.highlights["specializations"])
        (by_name,) = search_backend.providers(ProviderQuery(q="Lovlace"), NOW).hits
        assert any("<em>Lovelace</em>" in f for f in by_name.highlights["name"])
        (by_bio,) = search_backend.providers(ProviderQuery(q="migraine"), NOW).hits
        assert any("<em>" in f and "migraine" in plain(f) for f in by_bio.highlights["bio"])
        (unasked,) = search_backend.providers(ProviderQuery(), NOW).hits
        assert unasked.highlights == {}
        assert unasked.score is None

    # --- location ---------------------------------------------------------------------------

    def test_a_radius_keeps_nearby_providers_and_distance_sorts_nearest_first(
        self, search_index: SearchIndex, search_backend: SearchBackend
    ) -> None:
        berlin = provider("Dr Berta Berlin", location=GeoPoint(lat=52.5200, lon=13.4050))
        potsdam = provider("Dr Paul Potsdam", location=GeoPoint(lat=52.3906, lon=13.0645))
        hamburg = provider("Dr Hanna Hamburg", location=GeoPoint(lat=53.5511, lon=9.9937))
        nowhere = provider("Dr Nora Nowhere")
        search_index.put_providers([hamburg, nowhere, potsdam, berlin])

        near = search_backend.providers(
            ProviderQuery(near=BRANDENBURG_GATE, radius_km=50, sort="distance"), NOW
        )
        assert ids(near) == [berlin.id, potsdam.id]
        everyone = search_backend.providers(
            ProviderQuery(near=BRANDENBURG_GATE, sort="distance"), NOW
        )
        assert ids(everyone) == [berlin.id, potsdam.id, hamburg.id, nowhere.id]
        distances = [hit.distance_km for hit in everyone.hits]
        assert distances[3] is None
        # Great-circle distances (km); backends may take the earth's radius a little apart.
        assert distances[:3] == [
            pytest.approx(1.89, rel=0.02),
            pytest.approx(25.4, rel=0.02),
            pytest.approx(253.8, rel=0.02),
        ]

    def test_a_distance_sort_or_radius_without_a_point_is_refused(
        self, search_backend: SearchBackend
    ) -> None:
        with pytest.raises(ValidationError, match="lat and lon"):
            search_backend.providers(ProviderQuery(sort="distance"), NOW)
        with pytest.raises(ValidationError, match="lat and lon"):
            search_backend.providers(ProviderQuery(radius_km=10), NOW)

    # --- sorting and paging -----------------------------------------------------------------

    def test_every_sort_is_stable_with_ties_broken_by_id(
        self, search_index: SearchIndex, search_backend: SearchBackend
    ) -> None:
        u = ids_in_order(6)
        ratings = ["", "4.5", "3.0", "4.5", "", "3.0"]
        fees = ["50", "", "50", "80", "20", ""]
        search_index.put_providers(
            [
                provider(
                    f"Dr Number {n}",
                    id=u[n],
                    rating=Decimal(ratings[n]) if ratings[n] else None,
                    fee_amount=Decimal(fees[n]) if fees[n] else None,
                    fee_currency="EUR" if fees[n] else None,
                )
                for n in (4, 1, 5, 0, 3, 2)
            ]
        )

        def order(sort: Any) -> list[UUID]:
            first = ids(search_backend.providers(ProviderQuery(sort=sort), NOW))
            assert ids(search_backend.providers(ProviderQuery(sort=sort), NOW)) == first
            return first

        assert order("relevance") == u
        assert order("rating") == [u[1], u[3], u[2], u[5], u[0], u[4]]
        assert order("fee") == [u[4], u[0], u[2], u[3], u[1], u[5]]

    def test_pages_are_stable_and_together_complete(
        self, search_index: SearchIndex, search_backend: SearchBackend
    ) -> None:
        docs = [
            provider(
                f"Dr Page {n}",
                specializations=["Cardiology"],
                bio="Heart health." if n % 3 else "",
                rating=Decimal(n % 4) if n % 5 else None,
            )
            for n in range(23)
        ]
        search_index.put_providers(docs)

        for query in (ProviderQuery(sort="rating"), ProviderQuery(q="cardiology")):
            whole = search_backend.providers(replace(query, limit=100), NOW)
            assert whole.total == 23
            pages = [
                search_backend.providers(replace(query, limit=5, offset=offset), NOW)
                for offset in range(0, 25, 5)
            ]
            assert [len(page.hits) for page in pages] == [5, 5, 5, 5, 3]
            assert {page.total for page in pages} == {23}
            assert [i for page in pages for i in ids(page)] == ids(whole)
        beyond = search_backend.providers(ProviderQuery(limit=5, offset=40), NOW)
        assert (beyond.hits, beyond.total) == ([], 23)

    # --- availability -----------------------------------------------------------------------

    def test_free_slot_filter_and_soonest_sort_read_the_free_slots(
        self, search_index: SearchIndex, search_backend: SearchBackend
    ) -> None:
        u = ids_in_order(8)
        names = ["tomorrow", "soon", "full", "blocked", "past", "later", "cancelled", "none"]
        p = {name: provider(f"Dr {name.title()}", id=u[n]) for n, name in enumerate(names)}
        search_index.put_providers(list(p.values()))
        search_index.put_slots(
            [
                slot(p["tomorrow"].id, NOW + DAY),
                slot(p["soon"].id, NOW + 3 * HOUR),
                slot(p["soon"].id, NOW + 5 * DAY),
                slot(p["full"].id, NOW + 2 * HOUR, free=0),
                slot(p["blocked"].id, NOW + HOUR, status="blocked"),
                slot(p["past"].id, NOW - HOUR),
                slot(p["later"].id, NOW + 20 * DAY),
                slot(p["cancelled"].id, NOW + 2 * HOUR, status="cancelled"),
            ]
        )

        def free(start: datetime, end: datetime) -> set[UUID]:
            query = ProviderQuery(free_from=start, free_to=end)
            return set(ids(search_backend.providers(query, NOW)))

        assert free(NOW - DAY, NOW + 2 * DAY) == {p["tomorrow"].id, p["soon"].id}
        assert free(NOW + 2 * DAY, NOW + 30 * DAY) == {p["soon"].id, p["later"].id}
        assert free(NOW + 30 * DAY, NOW + 40 * DAY) == set()

        soonest = search_backend.providers(ProviderQuery(sort="soonest"), NOW)
        rest = [p[name].id for name in names if name not in ("soon", "tomorrow")]
        assert ids(soonest) == [p["soon"].id, p["tomorrow"].id, *rest]
        by_id = {hit.provider.id: hit for hit in soonest.hits}
        assert (by_id[p["soon"].id].next_free_slot, by_id[p["soon"].id].free_slots) == (
            NOW + 3 * HOUR,
            2,
        )
        assert (by_id[p["tomorrow"].id].next_free_slot, by_id[p["tomorrow"].id].free_slots) == (
            NOW + DAY,
            1,
        )
        for name in ("full", "blocked", "past", "later", "cancelled", "none"):
            assert (by_id[p[name].id].next_free_slot, by_id[p[name].id].free_slots) == (None, 0)

    def test_slot_search_lists_free_slots_by_start(
        self, search_index: SearchIndex, search_backend: SearchBackend
    ) -> None:
        x, y = uuid.uuid4(), uuid.uuid4()
        tie = ids_in_order(2)
        at_one = slot(x, NOW + HOUR, types=["video"], id=tie[1])
        also_at_one = slot(y, NOW + HOUR, location="Hamburg", id=tie[0])
        at_two = slot(x, NOW + 2 * HOUR, location="Berlin")
        tomorrow = slot(x, NOW + DAY, types=["in_person", "video"], location="Berlin")
        search_index.put_slots(
            [
                tomorrow,
                at_two,
                at_one,
                also_at_one,
                slot(x, NOW + 3 * HOUR, free=0),
                slot(x, NOW + 4 * HOUR, status="blocked"),
                slot(x, NOW + 5 * HOUR, status="cancelled"),
                slot(x, NOW - HOUR),
                slot(x, NOW + 10 * DAY),
            ]
        )

        def found(**query: Any) -> list[UUID]:
            wanted = SlotQuery(start_from=NOW - DAY, start_to=NOW + 2 * DAY, **query)
            results = search_backend.slots(wanted, NOW)
            if not query.get("offset") and not query.get("limit"):
                assert results.total == len(results.hits)
            return [s.id for s in results.hits]

        assert found() == [also_at_one.id, at_one.id, at_two.id, tomorrow.id]
        assert found(provider_id=x) == [at_one.id, at_two.id, tomorrow.id]
        assert found(appointment_type="video") == [at_one.id, tomorrow.id]
        assert found(location="Berlin") == [at_two.id, tomorrow.id]
        assert found(limit=2, offset=1) == [at_one.id, at_two.id]
        page = search_backend.slots(
            SlotQuery(start_from=NOW, start_to=NOW + 2 * DAY, limit=2, offset=1), NOW
        )
        assert page.total == 4
        (hit,) = search_backend.slots(
            SlotQuery(start_from=NOW, start_to=NOW + 2 * DAY, location="Hamburg"), NOW
        ).hits
        assert hit == also_at_one

    # --- autocomplete -----------------------------------------------------------------------

    def test_autocomplete_suggests_provider_names_and_specialties(
        self, search_index: SearchIndex, search_backend: SearchBackend
    ) -> None:
        ada = provider("Dr Ada Lovelace", specializations=["Cardiology"])
        grace = provider("Dr Grace Hopper", specializations=["Cardiac surgery", "Dermatology"])
        marie = provider("Dr Marie Curie", specializations=["Dermatology"])
        search_index.put_providers([ada, grace, marie])

        def suggested(prefix: str) -> set[tuple[str, str, UUID | None]]:
            found = search_backend.autocomplete(prefix, 10)
            return {(s.text, s.kind, s.provider_id) for s in found}

        assert suggested("card") == {
            ("Cardiology", "specialization", None),
            ("Cardiac surgery", "specialization", None),
        }
        assert suggested("love") == {("Dr Ada Lovelace", "provider", ada.id)}
        assert suggested("gra") == {("Dr Grace Hopper", "provider", grace.id)}
        assert suggested("derm") == {("Dermatology", "specialization", None)}
        assert len(search_backend.autocomplete("dr", 2)) == 2
        assert suggested("sr_providers; DROP TABLE sr_providers") == set()
        assert suggested("love") == {("Dr Ada Lovelace", "provider", ada.id)}

    # --- notes ------------------------------------------------------------------------------

    def test_notes_are_found_only_by_their_patient_and_their_provider(
        self, search_index: SearchIndex, search_backend: SearchBackend
    ) -> None:
        ann, bob, xavier, yuri = (uuid.uuid4() for _ in range(4))
        ann_x = note(ann, xavier, "Persistent cough; prescribed an inhaler.")
        bob_x = note(bob, xavier, "Cough and fever, rest advised.")
        ann_y = note(ann, yuri, "Knee pain after running; the cough has cleared.")
        search_index.put_notes([ann_x, bob_x, ann_y])

        def found(text: str, **scope: UUID) -> set[UUID]:
            hits = search_backend.notes(text, NoteScope(**scope), 20)
            assert all("<em>" in hit.snippet for hit in hits)
            return {hit.appointment_id for hit in hits}

        assert found("cough", patient_id=ann) == {ann_x.appointment_id, ann_y.appointment_id}
        assert found("cough", patient_id=bob) == {bob_x.appointment_id}
        assert found("cough", provider_id=xavier) == {ann_x.appointment_id, bob_x.appointment_id}
        assert found("cough", provider_id=yuri) == {ann_y.appointment_id}
        assert found("knee", provider_id=xavier) == set()
        assert found("cough", patient_id=ann, provider_id=xavier) == {ann_x.appointment_id}
        assert found("cough", patient_id=uuid.uuid4()) == set()
        assert search_backend.notes("cough", NoteScope(), 20) == []
        (hit,) = search_backend.notes("inhaler", NoteScope(patient_id=ann), 20)
        assert (hit.patient_id, hit.provider_id, hit.completed_at) == (ann, xavier, NOW - DAY)

    # --- versions ---------------------------------------------------------------------------

    def test_an_older_version_never_overwrites_a_newer_document(
        self, search_index: SearchIndex, search_backend: SearchBackend
    ) -> None:
        ada = uuid.uuid4()
        search_index.put_providers([provider("Dr Ada Lovelace", id=ada, version=2, bio="Asthma.")])
        search_index.put_providers([provider("Dr Ada Lovelace", id=ada, version=3, bio="Gout.")])
        search_index.put_providers([provider("Dr Ada Lovelace", id=ada, version=1, bio="Acne.")])
        assert set(ids(search_backend.providers(ProviderQuery(q="gout"), NOW))) == {ada}
        assert ids(search_backend.providers(ProviderQuery(q="asthma"), NOW)) == []
        assert ids(search_backend.providers(ProviderQuery(q="acne"), NOW)) == []
        (hit,) = search_backend.providers(ProviderQuery(), NOW).hits
        assert hit.provider.version == 3

        seat = uuid.uuid4()
        search_index.put_slots([slot(ada, NOW + HOUR, id=seat, version=4, free=1)])
        search_index.put_slots([slot(ada, NOW + HOUR, id=seat, version=5, free=0)])
        search_index.put_slots([slot(ada, NOW + HOUR, id=seat, version=4, free=1)])
        window = SlotQuery(start_from=NOW, start_to=NOW + DAY)
        assert search_backend.slots(window, NOW).hits == []

        patient, visit = uuid.uuid4(), uuid.uuid4()
        search_index.put_notes([note(patient, ada, "Asthma follow-up.", appointment_id=visit)])
        search_index.put_notes(
            [note(patient, ada, "Initial draft.", appointment_id=visit, version=5)]
        )
        scope = NoteScope(patient_id=patient)
        assert [h.appointment_id for h in search_backend.notes("asthma", scope, 5)] == [visit]
        assert search_backend.notes("draft", scope, 5) == []
