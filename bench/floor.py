"""The HTTP floor for bench/search.py: the simplest FastAPI app doing the same HTTP part.

One route, a constant answer, run by the same uvicorn with the same settings as
the search API. No route of the search API itself can be this floor.
"""

from fastapi import FastAPI

app = FastAPI()


@app.get("/cities")
async def cities() -> dict[str, str]:
    """A constant."""
    return {"floor": "constant"}
