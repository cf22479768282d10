"""Admin endpoints: role checks, user listing, block/unblock, role changes, deletion with all data, jobs."""

import pytest

from controller.sql import fetch_value
from tests.auth_helpers import access_token, assert_error, bearer, make_user

ADMIN_ROUTES = [
    ("GET", "/admin/users"),
    ("PATCH", "/admin/users/1"),
    ("DELETE", "/admin/users/1"),
    ("GET", "/admin/jobs"),
    ("POST", "/admin/jobs/demo/run"),
]


@pytest.fixture
def admin_id(db_conn):
    return make_user(db_conn, "admin@example.com", name="Admin", role="admin")


@pytest.fixture
def admin(app, admin_id):
    return bearer(access_token(app, admin_id, role="admin"))


@pytest.fixture
def user_id(db_conn):
    return make_user(db_conn, "user@example.com", name="Regular")


@pytest.fixture
def ran(app):
    calls = []
    app.extensions["jobs"] = {"demo": lambda: calls.append("demo"), "broken": lambda: 1 / 0}
    return calls


@pytest.mark.parametrize("method,path", ADMIN_ROUTES)
def test_non_admin_gets_403_on_every_admin_route(app, client, user_id, ran, method, path):
    response = client.open(path, method=method, headers=bearer(access_token(app, user_id)), json={"status": "active"})
    assert_error(response, 403, "FORBIDDEN")
    assert ran == []


@pytest.mark.parametrize("method,path", ADMIN_ROUTES)
def test_admin_routes_need_a_token(client, method, path):
    assert_error(client.open(path, method=method, json={"status": "active"}), 401, "UNAUTHORIZED")


@pytest.mark.parametrize("method,path", ADMIN_ROUTES)
def test_admin_reaches_every_admin_route(client, admin, admin_id, user_id, ran, method, path):
    path = path.replace("/users/1", f"/users/{user_id}")
    assert client.open(path, method=method, headers=admin, json={"status": "active"}).status_code == 200


def test_blocked_admin_is_refused(client, admin, db_conn, admin_id):
    db_conn.cursor().execute("UPDATE users SET status = 'blocked' WHERE user_id = %s", (admin_id,))
    client.application.extensions["auth_cache"].clear()
    assert_error(client.get("/admin/users", headers=admin), 403, "FORBIDDEN")


def test_list_users_is_paginated_and_has_no_secrets(client, admin, db_conn, admin_id):
    ids = [admin_id] + [make_user(db_conn, f"u{i}@example.com", google_sub=f"g{i}") for i in range(4)]
    first = client.get("/admin/users?limit=2", headers=admin).get_json()
    assert (first["count"], first["total"], first["page"], first["limit"]) == (2, 5, 1, 2)
    assert [user["user_id"] for user in first["data"]] == ids[:2]
    last = client.get("/admin/users?limit=2&page=3", headers=admin).get_json()
    assert [user["user_id"] for user in last["data"]] == ids[4:]
    row = first["data"][1]
    assert set(row) == {
        "user_id",
        "name",
        "email",
        "role",
        "status",
        "created_at",
        "last_login_at",
        "has_password",
        "google_linked",
    }
    assert row["google_linked"] is True and row["has_password"] is True
    text = client.get("/admin/users?limit=100", headers=admin).get_data(as_text=True)
    assert "scrypt" not in text and "password_hash" not in text and "g1" not in text
    admins = client.get("/admin/users?role=admin", headers=admin).get_json()
    assert [user["user_id"] for user in admins["data"]] == [admin_id]


@pytest.mark.parametrize("query", ["page=0", "limit=101", "limit=x", "status=gone", "role=root"])
def test_list_users_validation(client, admin, query):
    assert_error(client.get(f"/admin/users?{query}", headers=admin), 400, "VALIDATION_ERROR")


def test_block_takes_effect_at_once_and_unblock_restores(app, client, admin, user_id):
    token = bearer(access_token(app, user_id))
    assert client.get("/auth/me", headers=token).status_code == 200  # now cached as active
    response = client.patch(f"/admin/users/{user_id}", headers=admin, json={"status": "blocked"})
    assert response.status_code == 200 and response.get_json()["data"]["user"]["status"] == "blocked"
    assert_error(client.get("/auth/me", headers=token), 403, "FORBIDDEN")
    client.patch(f"/admin/users/{user_id}", headers=admin, json={"status": "active"})
    assert client.get("/auth/me", headers=token).status_code == 200


def test_role_change_is_seen_by_existing_tokens(app, client, admin, user_id):
    token = bearer(access_token(app, user_id))
    assert_error(client.get("/admin/users", headers=token), 403, "FORBIDDEN")
    client.patch(f"/admin/users/{user_id}", headers=admin, json={"role": "admin"})
    assert client.get("/admin/users", headers=token).status_code == 200
    client.patch(f"/admin/users/{user_id}", headers=admin, json={"role": "user"})
    assert_error(client.get("/admin/users", headers=token), 403, "FORBIDDEN")


@pytest.mark.parametrize("change", [{"status": "blocked"}, {"role": "user"}, {"status": "blocked", "role": "admin"}])
def test_admin_cannot_block_or_demote_themselves(client, admin, admin_id, change):
    assert_error(client.patch(f"/admin/users/{admin_id}", headers=admin, json=change), 409, "CONFLICT")


def test_admin_cannot_delete_themselves(client, admin, admin_id):
    assert_error(client.delete(f"/admin/users/{admin_id}", headers=admin), 409, "CONFLICT")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": "gone"},
        {"role": "root"},
        {"status": "active", "extra": 1},
        None,
        {"status": "active", "role": None},
    ],
)
def test_patch_validation(client, admin, user_id, body):
    assert_error(client.patch(f"/admin/users/{user_id}", headers=admin, json=body), 400, "VALIDATION_ERROR")


def test_unknown_user_is_404(client, admin):
    assert_error(client.patch("/admin/users/999999", headers=admin, json={"status": "blocked"}), 404, "NOT_FOUND")
    assert_error(client.delete("/admin/users/999999", headers=admin), 404, "NOT_FOUND")


def test_delete_removes_the_user_and_all_their_data(app, client, admin, db_conn, user_id):
    other = make_user(db_conn, "other@example.com")
    cursor = db_conn.cursor()
    stock_id = fetch_value(db_conn, "SELECT stock_id FROM stocks WHERE symbol = 'TCS'")
    for uid in (user_id, other):
        cursor.execute(
            "INSERT INTO ledger (user_id, amount, kind, balance_after) VALUES (%s, -100, 'buy', 99900)", (uid,)
        )
        cursor.execute(
            "INSERT INTO orders (user_id, stock_id, symbol, side, order_type, quantity, status) "
            "VALUES (%s, %s, 'TCS', 'BUY', 'MARKET', 1, 'COMPLETE')",
            (uid, stock_id),
        )
        order_id = cursor.lastrowid
        cursor.execute(
            "INSERT INTO trades (order_id, user_id, stock_id, symbol, side, quantity, price) "
            "VALUES (%s, %s, %s, 'TCS', 'BUY', 1, 100)",
            (order_id, uid, stock_id),
        )
        cursor.execute(
            "INSERT INTO holdings (user_id, stock_id, quantity, avg_price) VALUES (%s, %s, 1, 100)", (uid, stock_id)
        )
        cursor.execute("INSERT INTO watchlists (user_id, name) VALUES (%s, 'Main')", (uid,))
        cursor.execute(
            "INSERT INTO watchlist_items (watchlist_id, stock_id) VALUES (%s, %s)", (cursor.lastrowid, stock_id)
        )
    token = bearer(access_token(app, user_id))
    assert client.get("/auth/me", headers=token).status_code == 200
    response = client.delete(f"/admin/users/{user_id}", headers=admin)
    assert response.status_code == 200 and response.get_json()["data"] == {"deleted": user_id}
    tables = ["users", "accounts", "ledger", "orders", "trades", "holdings", "watchlists"]
    for table in tables:
        assert fetch_value(db_conn, f"SELECT COUNT(*) FROM {table} WHERE user_id = %s", (user_id,)) == 0, table
        assert fetch_value(db_conn, f"SELECT COUNT(*) FROM {table} WHERE user_id = %s", (other,)) == 1, table
    assert fetch_value(db_conn, "SELECT COUNT(*) FROM watchlist_items") == 1
    assert_error(client.get("/auth/me", headers=token), 401, "UNAUTHORIZED")


def test_jobs_lists_recorded_runs_and_registered_jobs(client, admin, db_conn, ran):
    db_conn.cursor().execute(
        "INSERT INTO scheduler_runs (job_name, last_started_at, last_finished_at, last_duration_ms, last_status, "
        "last_error, run_count, error_count, host) VALUES ('stock_quotes', '2026-11-20 05:30:00', "
        "'2026-11-20 05:30:01.250', 1250, 'error', 'provider timeout', 10, 1, 'web-1')"
    )
    try:
        data = client.get("/admin/jobs", headers=admin).get_json()["data"]
    finally:
        db_conn.cursor().execute("DELETE FROM scheduler_runs")
    jobs = {job["name"]: job for job in data["jobs"]}
    assert sorted(jobs) == ["broken", "demo", "stock_quotes"] and data["leader"] is None
    assert jobs["stock_quotes"] == {
        "name": "stock_quotes",
        "runnable": False,
        "last_started_at": "2026-11-20T11:00:00.000+05:30",
        "last_finished_at": "2026-11-20T11:00:01.250+05:30",
        "last_duration_ms": 1250,
        "last_status": "error",
        "last_error": "provider timeout",
        "run_count": 10,
        "error_count": 1,
        "host": "web-1",
    }
    assert jobs["demo"]["runnable"] is True and jobs["demo"]["run_count"] == 0 and jobs["demo"]["last_status"] is None


def test_jobs_show_the_leader_when_scale_out_reports_it(app, client, admin):
    app.extensions["leader_status"] = lambda: {"is_leader": True, "host": "web-1"}
    assert client.get("/admin/jobs", headers=admin).get_json()["data"]["leader"] == {"is_leader": True, "host": "web-1"}


def test_run_job_now(client, admin, ran):
    response = client.post("/admin/jobs/demo/run", headers=admin)
    assert response.status_code == 200 and ran == ["demo"]
    data = response.get_json()["data"]
    assert data["name"] == "demo" and data["status"] == "ok" and data["duration_ms"] >= 0
    assert_error(client.post("/admin/jobs/nope/run", headers=admin), 404, "NOT_FOUND")
    body = assert_error(client.post("/admin/jobs/broken/run", headers=admin), 500, "JOB_FAILED")
    assert "ZeroDivisionError" in body["error"]["message"]
