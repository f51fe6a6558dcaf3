"""The partner capabilities registry: what each partner kind may do, its scope, and what each of its
grant levels may see.

``registry`` holds the one table and the SQL that tells a row's grant level; ``scope`` filters a
partner's rows by its kind's scope and grants warehouses to a warehouse-scoped kind; ``views`` renders
positions, readings, alerts, timelines, refusals and webhook payloads from plain values through
it, in words written for partners where they get words instead of figures. The layers above
(alerts, transfers, procurement, the API) call it; it imports only the kernel, tenants, inventory
and supplier offers, and fills the webhook relay's hook for what a partner may hear.
"""
