BEGIN TRANSACTION;
CREATE TABLE done_marks (
	session_id VARCHAR(80) NOT NULL, 
	milestone_id VARCHAR(64) NOT NULL, 
	done_on DATE NOT NULL, 
	"by" VARCHAR(255) NOT NULL, 
	note TEXT, 
	marked_at DATETIME NOT NULL, 
	PRIMARY KEY (session_id, milestone_id)
);
INSERT INTO "done_marks" VALUES('sa-2027-03-st-andre','ceres_session_create','2026-11-20','Nathalie','créée','2026-11-20 09:00:00.000000');
CREATE TABLE feed_tokens (
	target VARCHAR(64) NOT NULL, 
	token VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (target), 
	UNIQUE (token)
);
INSERT INTO "feed_tokens" VALUES('flux-jury-maillot','JN-r96STRhVOcBye5qlTYl-8rluTdreXXC9pdwsyBYo','2026-11-20 09:00:00.000000');
CREATE TABLE invitations (
	session_id VARCHAR(80) NOT NULL, 
	email VARCHAR(255) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	sequence INTEGER NOT NULL, 
	meaning VARCHAR(64) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	event TEXT NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (session_id, email)
);
INSERT INTO "invitations" VALUES('sa-2027-03-st-andre','c.maillot@jury.example','Corinne Maillot',0,'mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm','invited','BEGIN:VEVENT
END:VEVENT
','2026-11-20 09:00:00.000000');
CREATE TABLE item_errors (
	target VARCHAR(64) NOT NULL, 
	uid VARCHAR(255) NOT NULL, 
	error TEXT NOT NULL, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (target, uid)
);
CREATE TABLE known_files (
	path VARCHAR(1024) NOT NULL, 
	session_id VARCHAR(80) NOT NULL, 
	PRIMARY KEY (path)
);
INSERT INTO "known_files" VALUES('/cfg/sessions/sa-2027-03-st-andre.yaml','sa-2027-03-st-andre');
CREATE TABLE outbox (
	id INTEGER NOT NULL, 
	"key" VARCHAR(400) NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	session_id VARCHAR(80), 
	milestone_id VARCHAR(64), 
	recipient VARCHAR(255) NOT NULL, 
	subject TEXT NOT NULL, 
	message_id VARCHAR(255) NOT NULL, 
	message BLOB NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at DATETIME NOT NULL, 
	last_error TEXT, 
	smtp_reply TEXT, 
	created_at DATETIME NOT NULL, 
	sent_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE ("key")
);
INSERT INTO "outbox" VALUES(1,'reminder:sa:dte:J-7:n@x','reminder','sa-2027-03-st-andre','dte_order','Nathalie <n.techer@afpar.example>','[SA 15/03] Rappel','<abc@afpar.example>',X'5375626A6563743A20780D0A0D0A626F6479','sent',1,'2026-11-20 09:00:00.000000',NULL,'250 OK','2026-11-20 09:00:00.000000','2026-11-20 09:00:00.000000');
INSERT INTO "outbox" VALUES(2,'invitation:sa:c.maillot@jury.example:REQUEST:0','invitation','sa-2027-03-st-andre','exam_session','c.maillot@jury.example','Invitation','<inv@afpar.example>',X'5375626A6563743A20690D0A0D0A626F6479','pending',0,'2026-11-20 09:00:00.000000',NULL,NULL,'2026-11-20 09:00:00.000000',NULL);
CREATE TABLE pushed_items (
	target VARCHAR(64) NOT NULL, 
	uid VARCHAR(255) NOT NULL, 
	session_id VARCHAR(80) NOT NULL, 
	milestone_id VARCHAR(64) NOT NULL, 
	href TEXT NOT NULL, 
	etag TEXT, 
	content_hash VARCHAR(64) NOT NULL, 
	sequence INTEGER NOT NULL, 
	pushed_at DATETIME NOT NULL, 
	content TEXT, 
	PRIMARY KEY (target, uid)
);
INSERT INTO "pushed_items" VALUES('coordination','sa-2027-03-st-andre.dte_order@syncsvc','sa-2027-03-st-andre','dte_order','/coordination/examens/sa.ics','"e1"','hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh',2,'2026-11-20 09:00:00.000000',NULL);
CREATE TABLE schema_version (
	version INTEGER NOT NULL, 
	PRIMARY KEY (version)
);
INSERT INTO "schema_version" VALUES(3);
CREATE TABLE target_state (
	target VARCHAR(64) NOT NULL, 
	location TEXT, 
	sync_token TEXT, 
	last_success_at DATETIME, 
	last_error TEXT, 
	last_error_at DATETIME, 
	PRIMARY KEY (target)
);
INSERT INTO "target_state" VALUES('coordination','http://radicale/coordination/examens/','tok-1','2026-11-20 09:00:00.000000',NULL,NULL);
CREATE INDEX ix_pushed_items_session_id ON pushed_items (session_id);
CREATE INDEX ix_outbox_status ON outbox (status);
COMMIT;
