"""Applications (登记申请): the forms and their materials data, 自主核名, parties and identifiers, attachments,
the registry of existing entities and the one transition table (lifecycle)."""
