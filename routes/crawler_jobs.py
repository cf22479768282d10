"""Crawler jobs (role admin, checked against the database): list, create, change, delete, run now, runs."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from routes._params import success
from routes.validation import json_body, query_params
from services.accounts.auth import admin_required, current_user_id
from services.fundamentals import admin
from services.fundamentals.requests import CrawlerJobChange, CrawlerJobCreate, creation, given

bp = Blueprint("crawler_jobs", __name__)


class RunsQuery(BaseModel):
    """GET /admin/crawler-jobs/<id>/runs."""

    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, Field(ge=1, le=200)] = 20
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0


@bp.get("")
@admin_required
def list_crawler_jobs():
    """Every crawler job with its last run."""
    found = admin.list_jobs()
    return success(found, count=len(found))


@bp.post("")
@admin_required
@json_body(CrawlerJobCreate)
def create_crawler_job(body: CrawlerJobCreate):
    """Create a crawler job (201)."""
    return success(admin.create(creation(body), current_user_id()), 201)


@bp.patch("/<int:job_id>")
@admin_required
@json_body(CrawlerJobChange)
def change_crawler_job(job_id: int, body: CrawlerJobChange):
    """Change a crawler job: name, target, source, metadata, schedule, enabled."""
    return success(admin.update(job_id, given(body)))


@bp.delete("/<int:job_id>")
@admin_required
def delete_crawler_job(job_id: int):
    """Delete a crawler job and its finished runs (an active run is cancelled)."""
    admin.delete(job_id)
    return "", 204


@bp.post("/<int:job_id>/run")
@admin_required
def run_crawler_job(job_id: int):
    """Queue a run now (202); 409 while one is queued or running."""
    return success(admin.trigger(job_id, current_user_id()), 202)


@bp.get("/<int:job_id>/runs")
@admin_required
@query_params(RunsQuery)
def crawler_job_runs(job_id: int, query: RunsQuery):
    """The job's runs, newest first."""
    found = admin.runs(job_id, query.limit, query.offset)
    return success(found, count=len(found))
