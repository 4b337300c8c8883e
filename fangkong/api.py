"""The REST API (django-ninja): OpenAPI at /api/docs. Each app contributes a router from its api.py."""

from ninja import NinjaAPI

api = NinjaAPI(title="Fangkong API", version="1", urls_namespace="api", docs_url="/docs")
