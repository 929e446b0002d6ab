"""The catalog model: relation fields defined once, the in-memory graph, the vocabulary the catalog's own
names, kinds and types give, entity linking, relation questions and conversational focus."""
