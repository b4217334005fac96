"""HTTP routes, one module per feature, each exposing ``routes: web.RouteTableDef``."""
