"""The discrete-event core: the clock (SimPy's order, plain callbacks), desks, draws, the ledger."""
