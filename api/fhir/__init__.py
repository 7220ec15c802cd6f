"""A FHIR R4 facade at /fhir/r4 over the same read models and commands as the JSON API."""
