"""The discrete-event core: SimPy's clock with cheap actions, staff desks, draws and the ledger."""
