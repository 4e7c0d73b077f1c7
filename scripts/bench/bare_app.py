"""The baseline for the serving benchmarks: a bare FastAPI app that parses the JSON body and
returns a constant, with the same health endpoint as digitpad. ``uvicorn scripts.bench.bare_app:app``"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/predict")
async def predict(request: Request) -> dict[str, Any]:
    body = await request.json()
    return {"digit": 7, "confidence": 1.0, "keys": sorted(body)}
