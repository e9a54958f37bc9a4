DROP TABLE sealpost_message;
DROP TABLE sealpost_template;
DROP TABLE sealpost_api_key;
