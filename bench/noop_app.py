"""The ceiling for the API: a FastAPI POST that parses a small JSON body and answers JSON,
served by the same uvicorn with the same number of processes as the service."""

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Small(BaseModel):
    name: str
    quantity: int


@app.post("/noop")
def noop(body: Small) -> dict[str, object]:
    return {"name": body.name, "quantity": body.quantity, "ok": True}
