"""Request and response bodies (pydantic), one module per area: validated by the handlers and
published as the OpenAPI document's components."""
