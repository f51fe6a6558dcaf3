"""Demand forecasting: the pure parts (demand_class, history, models, metrics) work on numpy arrays
of daily demand and know nothing of the database; storage, the API and the engine build on them."""
