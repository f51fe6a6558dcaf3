"""The planners' console: server-rendered pages for a tenant's staff (Django templates, htmx
fragments, Apache ECharts), over the same selectors and services the API calls."""
