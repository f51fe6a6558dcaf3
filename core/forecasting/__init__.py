"""Demand forecasting: the pure parts (demand_class, history, fitting, metrics) work on numpy arrays
of daily demand and know nothing of the database; storage, the API and the engine build on them."""
