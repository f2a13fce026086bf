"""`python -m searchapi`: serve the search API with uvicorn (SEARCHAPI_HOST:SEARCHAPI_PORT)."""

import uvicorn

from searchapi.settings import Settings


def main() -> None:
    """Run one uvicorn worker (the API is async; a worker per core scales further)."""
    settings = Settings()
    uvicorn.run(
        "searchapi.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        access_log=False,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
