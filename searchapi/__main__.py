"""`python -m searchapi`: serve the search API with uvicorn on 0.0.0.0:8080."""

import os

import uvicorn


def main() -> None:
    """Run one uvicorn worker (the API is async; a worker per core scales further)."""
    uvicorn.run(
        "searchapi.app:create_app",
        factory=True,
        host=os.environ.get("SEARCHAPI_HOST", "0.0.0.0"),
        port=int(os.environ.get("SEARCHAPI_PORT", "8080")),
        access_log=False,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
