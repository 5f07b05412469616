"""Face enhancers (face restorers) run after lip sync on the pasted face region."""
