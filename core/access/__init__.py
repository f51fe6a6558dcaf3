"""The partner capabilities registry: what each partner kind and grant level may see.

``registry`` holds the one table and the SQL that tells a row's grant level; ``views`` renders
positions, readings, alerts, timelines, refusals and webhook payloads from plain values through
it, in words written for partners where they get words instead of figures. The layers above
(alerts, transfers, procurement, the API) call it; it imports only the kernel, tenants and
inventory.
"""
