-- Workloads for the decode and end-to-end benchmarks (bench/README.md).
-- narrow: ~100-byte rows of 8 columns; wide: ~1 KB rows of 32 columns of
-- every type.  Rows are inserted 1,000 per transaction, 1,000,000 in all.
SET SESSION binlog_format = 'ROW';
CREATE DATABASE IF NOT EXISTS ferry_bench;
DROP TABLE IF EXISTS ferry_bench.narrow, ferry_bench.wide;
CREATE TABLE ferry_bench.narrow (
	id INT PRIMARY KEY,
	b BIGINT NOT NULL,
	s1 VARCHAR(32) NOT NULL,
	s2 VARCHAR(32),
	dt DATETIME NOT NULL,
	d DECIMAL(10,2) NOT NULL,
	f DOUBLE,
	t TINYINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE ferry_bench.wide (
	id INT PRIMARY KEY,
	c01 TINYINT, c02 SMALLINT UNSIGNED, c03 MEDIUMINT, c04 INT UNSIGNED,
	c05 BIGINT, c06 DECIMAL(20,6), c07 DECIMAL(8,3), c08 FLOAT,
	c09 DOUBLE, c10 BIT(12), c11 YEAR, c12 DATE, c13 TIME(3),
	c14 DATETIME(6), c15 TIMESTAMP(6) NULL, c16 CHAR(20),
	c17 VARCHAR(100), c18 VARCHAR(255) CHARACTER SET latin1, c19 TEXT,
	c20 BLOB, c21 BINARY(16), c22 VARBINARY(64), c23 ENUM('a','b','c','d'),
	c24 SET('w','x','y','z'), c25 TINYTEXT, c26 MEDIUMTEXT, c27 JSON,
	c28 DATETIME, c29 TIME, c30 DECIMAL(30,10), c31 VARCHAR(60)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

DELIMITER //
CREATE OR REPLACE PROCEDURE ferry_bench.fill_narrow(n INT)
BEGIN
	DECLARE i INT DEFAULT 0;
	WHILE i < n DO
		START TRANSACTION;
		INSERT INTO ferry_bench.narrow
		SELECT i + seq, (i + seq) * 1000003, CONCAT('name-', i + seq),
		    CONCAT('x', (i + seq) % 97),
		    TIMESTAMP'2024-02-29 13:05:09' + INTERVAL (i + seq) SECOND,
		    (i + seq) / 100, (i + seq) / 7, (i + seq) % 128
		FROM seq_1_to_1000;
		COMMIT;
		SET i = i + 1000;
	END WHILE;
END //
CREATE OR REPLACE PROCEDURE ferry_bench.fill_wide(n INT)
BEGIN
	DECLARE i INT DEFAULT 0;
	WHILE i < n DO
		START TRANSACTION;
		INSERT INTO ferry_bench.wide
		SELECT i + seq, CAST(seq AS SIGNED) % 128 - 64, seq,
		    CAST(seq AS SIGNED) - 500, i + seq,
		    (i + seq) * 1000003, (i + seq) / 1000000, seq / 1000, seq / 3,
		    seq / 7, seq % 4096, 1901 + seq % 200,
		    DATE'2024-01-01' + INTERVAL seq DAY,
		    SEC_TO_TIME(seq * 37) + INTERVAL 0.123 SECOND,
		    TIMESTAMP'2024-02-29 13:05:09.123456' + INTERVAL seq SECOND,
		    TIMESTAMP'2024-02-29 13:05:09.654321' + INTERVAL seq MINUTE,
		    CONCAT('char', seq), REPEAT(CONCAT('v', seq), 8),
		    REPEAT('é', 40), REPEAT('text ', 30), RANDOM_BYTES(100),
		    RANDOM_BYTES(16), RANDOM_BYTES(32), ELT(1 + seq % 4, 'a', 'b', 'c', 'd'),
		    'w,y', 'tiny', REPEAT('medium ', 20),
		    JSON_OBJECT('id', i + seq, 'tags', JSON_ARRAY('a', 'b'), 'v', seq / 3),
		    TIMESTAMP'2000-01-01 00:00:00' + INTERVAL seq HOUR,
		    SEC_TO_TIME(seq), (i + seq) * 1.0000000001, UUID()
		FROM seq_1_to_1000;
		COMMIT;
		SET i = i + 1000;
	END WHILE;
END //
DELIMITER ;
