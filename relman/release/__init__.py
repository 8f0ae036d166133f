"""Release logic over any registry: lineage and findings, promotion records, (later) policy,
promotion, approvals and the audit log. Nothing here knows which server it talks to."""
