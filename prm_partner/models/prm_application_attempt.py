import ipaddress
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL, create_index

RATE_LIMIT_PARAM = "prm_partner.application_rate_limit"
RATE_LIMIT_DEFAULT = 5
RATE_LIMIT_WINDOW = timedelta(hours=1)
# attempts older than this are deleted by the daily autovacuum
KEEP_ATTEMPTS = timedelta(days=2)


class PrmApplicationAttempt(models.Model):
    """One submission of the public application form, whatever became of it
    (created, attached to a duplicate, refused for invalid input, caught by the
    honeypot or by the rate limit itself): the rate limit counts these rows per
    network, an IPv4 address or an IPv6 /64 prefix."""

    _name = "prm.application.attempt"
    _description = "Partner Application Attempt"
    _order = "id desc"
    _log_access = False

    network = fields.Char(
        required=True,
        readonly=True,
        help="IPv4 address, or IPv6 /64 prefix, the submission came from.",
    )
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    outcome = fields.Selection(
        [
            ("created", "Application created"),
            ("attached", "Attached to an open application"),
            ("invalid", "Invalid input"),
            ("spam", "Honeypot filled"),
            ("rate_limited", "Refused: rate limit"),
        ],
        readonly=True,
    )

    def init(self):
        create_index(
            self.env.cr,
            "prm_application_attempt_network_date_index",
            self._table,
            ["network", "date"],
        )

    @api.model
    def _network_of(self, remote_addr):
        """The network the rate limit counts ``remote_addr`` in: the IPv4
        address itself (also for an IPv4-mapped IPv6 address) or the IPv6 /64
        prefix; ``False`` when it is not an IP address."""
        try:
            address = ipaddress.ip_address((remote_addr or "").strip())
        except ValueError:
            return False
        if address.version == 6 and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address.version == 4:
            return str(address)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))

    @api.model
    def _limit(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(RATE_LIMIT_PARAM, RATE_LIMIT_DEFAULT)
        )
        try:
            return max(int(value), 0)
        except ValueError:
            return RATE_LIMIT_DEFAULT

    @api.model
    def _record_attempt(self, remote_addr):
        """Record a submission from ``remote_addr`` and tell whether its network
        sent more than the allowed number in the past hour
        (``prm_partner.application_rate_limit``, default 5; 0 disables it).

        :return: ``(attempt, limited)``: the new row (empty when the address is
            not an IP address) and whether this submission must be refused
        """
        network = self._network_of(remote_addr)
        if not network:
            return self.browse(), False
        attempt = self.sudo().create({"network": network})
        limit = self._limit()
        if not limit:
            return attempt, False
        count = self.sudo().search_count(
            [
                ("network", "=", network),
                ("date", ">=", fields.Datetime.now() - RATE_LIMIT_WINDOW),
            ],
            limit=limit + 1,
        )
        return attempt, count > limit

    @api.autovacuum
    def _gc_attempts(self):
        self.env.cr.execute(
            SQL(
                "DELETE FROM %s WHERE date < %s",
                SQL.identifier(self._table),
                fields.Datetime.now() - KEEP_ATTEMPTS,
            )
        )
