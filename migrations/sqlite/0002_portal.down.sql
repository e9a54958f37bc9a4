DROP TABLE sealpost_portal_event;
DROP TABLE sealpost_portal_session;
DROP TABLE sealpost_portal_link;
DROP TABLE sealpost_payload;
