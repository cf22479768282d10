"""The request models of crawler jobs, shared by the admin API (routes/crawler_jobs.py) and
`python -m backend crawler-job`: one declaration validates both and documents the API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from utils import cron
from utils.validators import SYMBOL_PATTERN, free_text

Symbol = Annotated[str, Field(pattern=SYMBOL_PATTERN, examples=["RELIANCE"]), AfterValidator(str.upper)]
Name = free_text(100, trim=True, about="The job's name, unique")
MetadataKey = free_text(64, about="A metadata key")


def _checked_keys(metadata: dict[str, str]) -> dict[str, str]:
    """Keys are free text too (checked here: a JSON Schema pattern on keys does not survive OpenAPI 3.0)."""
    checker = TypeAdapter(MetadataKey)
    for key in metadata:
        try:
            checker.validate_python(key)
        except ValidationError as exc:
            raise ValueError(f"key {key[:64]!r}: {exc.errors()[0]['msg']}") from None
    return metadata


Metadata = Annotated[
    dict[str, free_text(500, about="A metadata value")],
    Field(max_length=20, description="Free key/value notes (at most 20; keys 1-64 free-text characters)"),
    AfterValidator(_checked_keys),
]
Schedule = Annotated[
    str,
    Field(min_length=1, max_length=100, description="5-field cron (minute hour day month weekday) in Asia/Kolkata"),
    AfterValidator(cron.check),
]
Symbols = Annotated[list[Symbol], Field(max_length=10_000, description="NSE symbols (at most CRAWLER_MAX_SYMBOLS)")]
Source = Annotated[str, Field(min_length=1, max_length=16, description="simulator, or eodhd when configured")]
Universe = Literal["all"]


class CrawlerJobCreate(BaseModel):
    """POST /admin/crawler-jobs: symbols or universe "all" (not both); a universe job without `schedule` gets
    CRAWLER_UNIVERSE_SCHEDULE, `schedule: null` none."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    symbols: Symbols | None = None
    universe: Universe | None = None
    source: Source = "simulator"
    metadata: Metadata = {}
    schedule: Schedule | None = None
    enabled: StrictBool = True


class CrawlerJobChange(BaseModel):
    """PATCH /admin/crawler-jobs/<id>: any of the fields; `schedule: null` removes the schedule."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    name: Name | None = None
    symbols: Symbols | None = None
    universe: Universe | None = None
    source: Source | None = None
    metadata: Metadata | None = None
    schedule: Schedule | None = None
    enabled: StrictBool | None = None

    @model_validator(mode="after")
    def _something(self) -> CrawlerJobChange:
        if not self.model_fields_set:
            raise ValueError("send at least one field")
        for name in ("name", "source", "metadata", "enabled"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null (only schedule can: no schedule)")
        return self


def given(model: BaseModel) -> dict:
    """The fields the client sent (explicit nulls included: `schedule: null` means "no schedule")."""
    return model.model_dump(mode="json", exclude_unset=True)


def creation(body: CrawlerJobCreate) -> dict:
    """Every field of a new job, except `schedule` when it was not sent (a universe job then gets the default)."""
    data = body.model_dump(mode="json")
    if "schedule" not in body.model_fields_set:
        del data["schedule"]
    return data
