"""Domain errors of paper trading, each with its HTTP status and docs/API.md error code."""

from __future__ import annotations

from utils.errors import AppError, Conflict, ServiceUnavailable, field_error


class RuleViolation(AppError):
    """A well-formed request breaks a business rule; details name the rule, and the field under `fields`."""

    status = 422
    code = "VALIDATION_ERROR"
    default_message = "Request breaks a rule"

    def __init__(self, message: str, rule: str, field: str, **details: object) -> None:
        super().__init__(message, {"rule": rule, **details}, fields=[field_error(field, message)])


class OrderRejected(RuleViolation):
    """An order breaks an exchange rule (tick size, lot size, band, value, trigger side)."""


class InsufficientFunds(AppError):
    """The available cash does not cover the order."""

    status = 422
    code = "INSUFFICIENT_FUNDS"
    default_message = "Insufficient funds"


class InsufficientHoldings(AppError):
    """The free (unreserved) quantity does not cover the sell; short selling is not allowed."""

    status = 422
    code = "INSUFFICIENT_HOLDINGS"
    default_message = "Insufficient holdings"


class OrderNotModifiable(Conflict):
    """The order is no longer working (complete, cancelled, rejected or expired)."""

    default_message = "Order is not open"


class MarketDataUnavailable(ServiceUnavailable):
    """No fresh live price to execute against; like a broker without a feed, the order is refused."""

    code = "MARKET_DATA_UNAVAILABLE"
    default_message = "No live price for this instrument right now; retry shortly"
