DROP TABLE sealpost_replica;
