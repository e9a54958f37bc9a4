DROP TABLE sealpost_suppression;
DROP TABLE sealpost_consent_event;
