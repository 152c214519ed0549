"""Request and response bodies of the REST API: msgspec Structs, camelCase on the wire."""
