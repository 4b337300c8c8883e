import uuid

from fangkong.audit.context import RequestContext, current


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = uuid.uuid4().hex
        token = current.set(RequestContext(request_id=request.request_id, ip_address=request.META.get("REMOTE_ADDR") or None))
        try:
            return self.get_response(request)
        finally:
            current.reset(token)
