"""The framework ceiling: bare Litestar, one JSON route, nothing else."""

from litestar import Litestar, get


@get("/")
async def hello() -> dict[str, str]:
    """The smallest JSON answer Litestar can give."""
    return {"hello": "world"}


app = Litestar(route_handlers=[hello], logging_config=None, openapi_config=None)
