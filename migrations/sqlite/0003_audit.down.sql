DROP TABLE sealpost_audit_head;
DROP TABLE sealpost_audit_event;
