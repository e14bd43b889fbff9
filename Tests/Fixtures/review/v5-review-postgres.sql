-- A fracview review database on PostgreSQL at schema v5, for StorePostgresV5MigrationTests: the decisions that
-- Tests/Fixtures/review/make_v5_fixtures.swift records, written by fracview's own PostgresReviewStore at commit
-- 938af38 (the last one of schema v5) and dumped with PostgreSQL 15's pg_dump --no-owner --no-privileges --inserts
-- (its SET lines left out). The test runs these statements, each ending with ';' at the end of a line, in an empty
-- database, then opens it with today's store.

--
-- Name: decision; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.decision (
    reviewer text NOT NULL,
    split text NOT NULL,
    relative_path text NOT NULL,
    status text NOT NULL,
    truth integer,
    predicted integer,
    probabilities text NOT NULL,
    reviewer_label integer,
    note text NOT NULL,
    reviewed_at text NOT NULL,
    weights_id text NOT NULL,
    truth_class text,
    predicted_class text,
    reviewer_class text,
    role text DEFAULT 'reader'::text NOT NULL,
    read_mode text DEFAULT 'open'::text NOT NULL,
    CONSTRAINT decision_read_mode_check CHECK ((read_mode = ANY (ARRAY['open'::text, 'blind'::text, 'blind-model'::text]))),
    CONSTRAINT decision_role_check CHECK ((role = ANY (ARRAY['reader'::text, 'adjudicator'::text]))),
    CONSTRAINT decision_status_check CHECK ((status = ANY (ARRAY['accepted'::text, 'flagged'::text, 'relabelled'::text])))
);

--
-- Name: history; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.history (
    id bigint NOT NULL,
    reviewer text NOT NULL,
    split text NOT NULL,
    relative_path text NOT NULL,
    before text,
    after text NOT NULL,
    recorded_at text NOT NULL,
    role text DEFAULT 'reader'::text NOT NULL,
    op_id text
);

--
-- Name: history_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.history_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: history_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.history_id_seq OWNED BY public.history.id;

--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    identifier text NOT NULL
);

--
-- Name: session; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.session (
    id integer NOT NULL,
    dataset_root text NOT NULL,
    classes text NOT NULL,
    updated_at text NOT NULL,
    CONSTRAINT session_id_check CHECK ((id = 1))
);

--
-- Name: history id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.history ALTER COLUMN id SET DEFAULT nextval('public.history_id_seq'::regclass);

--
-- Data for Name: decision; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.decision VALUES ('alice', 'test', 'test/images/b.jpg', 'flagged', 2, 8, '[0.001,0.002,0.003,0.004,0.005,0.006,0.007,0.008,0.954,0.01]', NULL, 'fracture line? — see lateral view ✓', '2026-01-15T09:01:01.257Z', '4a5ef4d3b8c1e2f0', 'Healthy', 'Transverse Displaced', NULL, 'reader', 'open');
INSERT INTO public.decision VALUES ('alice', 'test', 'test/images/c.jpg', 'relabelled', 9, 8, '[0.001,0.002,0.003,0.004,0.005,0.006,0.007,0.008,0.954,0.01]', 8, '=SUM(A1)', '2026-01-15T09:02:02.264Z', '4a5ef4d3b8c1e2f0', 'Transverse', 'Transverse Displaced', 'Transverse Displaced', 'reader', 'open');
INSERT INTO public.decision VALUES ('alice', 'pacs', 'https://pacs.example.org/dicom-web/studies/1.2.826.0.1.1/series/1.2.826.0.1.2/instances/1.2.826.0.1.3', 'flagged', NULL, 0, '[0.946,0.002,0.003,0.004,0.005,0.006,0.007,0.008,0.009,0.01]', NULL, 'from the PACS', '2026-01-15T09:03:03.271Z', '4a5ef4d3b8c1e2f0', NULL, 'Comminuted', NULL, 'reader', 'open');
INSERT INTO public.decision VALUES ('alice', 'test', 'test/images/a.jpg', 'relabelled', 7, 7, '[0.001,0.002,0.003,0.004,0.005,0.006,0.007,0.953,0.009,0.01]', 3, '', '2026-01-15T09:04:04.278Z', '4a5ef4d3b8c1e2f0', 'Spiral', 'Spiral', 'Linear', 'reader', 'open');
INSERT INTO public.decision VALUES ('bob', 'test', 'test/images/b.jpg', 'relabelled', 2, 8, '[0.001,0.002,0.003,0.004,0.005,0.006,0.007,0.008,0.954,0.01]', 4, '', '2026-01-15T09:06:06.292Z', '4a5ef4d3b8c1e2f0', 'Healthy', 'Transverse Displaced', 'Oblique Displaced', 'reader', 'blind');
INSERT INTO public.decision VALUES ('carol', 'test', 'test/images/b.jpg', 'relabelled', 2, NULL, '[]', 4, '', '2026-01-15T09:07:07.299Z', '4a5ef4d3b8c1e2f0', 'Healthy', NULL, 'Oblique Displaced', 'reader', 'blind-model');
INSERT INTO public.decision VALUES ('alice', 'test', 'test/images/b.jpg', 'relabelled', 2, 8, '[0.001,0.002,0.003,0.004,0.005,0.006,0.007,0.008,0.954,0.01]', 4, 'settled', '2026-01-15T09:08:08.306Z', '4a5ef4d3b8c1e2f0', 'Healthy', 'Transverse Displaced', 'Oblique Displaced', 'adjudicator', 'open');

--
-- Data for Name: history; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.history VALUES (1, 'alice', 'test', 'test/images/a.jpg', NULL, '{"note":"","reviewedAt":"2026-01-15T09:00:00.250Z","split":"test","truth":7,"weightsID":"4a5ef4d3b8c1e2f0","predicted":7,"reviewer":"alice","role":"reader","readMode":"open","status":"accepted","probabilities":[0.001,0.002,0.003,0.004,0.005,0.006,0.007,0.953,0.009,0.01],"relativePath":"test\/images\/a.jpg"}', '2026-12-06T02:32:14.856Z', 'reader', '15E64A16-D15F-44EB-95B3-A82E71A99E0D');
INSERT INTO public.history VALUES (2, 'alice', 'test', 'test/images/b.jpg', NULL, '{"note":"fracture line? — see lateral view ✓","split":"test","status":"flagged","probabilities":[0.001,0.002,0.003,0.004,0.005,0.006,0.007,0.008,0.954,0.01],"predicted":8,"role":"reader","readMode":"open","relativePath":"test\/images\/b.jpg","truth":2,"reviewedAt":"2026-01-15T09:01:01.257Z","reviewer":"alice","weightsID":"4a5ef4d3b8c1e2f0"}', '2026-12-06T02:32:14.858Z', 'reader', 'B39FE5B0-4FF7-4764-8242-40490F6FB4E1');
INSERT INTO public.history VALUES (3, 'alice', 'test', 'test/images/c.jpg', NULL, '{"reviewer":"alice","role":"reader","predicted":8,"reviewerLabel":8,"probabilities":[0.001,0.002,0.003,0.004,0.005,0.006,0.007,0.008,0.954,0.01],"weightsID":"4a5ef4d3b8c1e2f0","note":"=SUM(A1)","relativePath":"test\/images\/c.jpg","split":"test","status":"relabelled","reviewedAt":"2026-01-15T09:02:02.264Z","truth":9,"readMode":"open"}', '2026-12-06T02:32:14.859Z', 'reader', '8B01A90B-A02D-450C-BB01-85BA21AAAA07');
INSERT INTO public.history VALUES (4, 'alice', 'pacs', 'https://pacs.example.org/dicom-web/studies/1.2.826.0.1.1/series/1.2.826.0.1.2/instances/1.2.826.0.1.3', NULL, '{"note":"from the PACS","reviewedAt":"2026-01-15T09:03:03.271Z","split":"pacs","weightsID":"4a5ef4d3b8c1e2f0","predicted":0,"reviewer":"alice","role":"reader","readMode":"open","status":"flagged","probabilities":[0.946,0.002,0.003,0.004,0.005,0.006,0.007,0.008,0.009,0.01],"relativePath":"https:\/\/pacs.example.org\/dicom-web\/studies\/1.2.826.0.1.1\/series\/1.2.826.0.1.2\/instances\/1.2.826.0.1.3"}', '2026-12-06T02:32:14.860Z', 'reader', 'EF68B687-0C2F-4270-8439-BA5ACA9AD95F');
INSERT INTO public.history VALUES (5, 'alice', 'test', 'test/images/a.jpg', '{"note":"","split":"test","status":"accepted","probabilities":[0.001,0.002,0.003,0.004,0.005,0.006,0.007,0.953,0.009,0.01],"predicted":7,"role":"reader","readMode":"open","relativePath":"test\/images\/a.jpg","truth":7,"reviewedAt":"2026-01-15T09:00:00.250Z","reviewer":"alice","weightsID":"4a5ef4d3b8c1e2f0"}', '{"reviewedAt":"2026-01-15T09:04:04.278Z","role":"reader","weightsID":"4a5ef4d3b8c1e2f0","predicted":7,"reviewerLabel":3,"note":"","probabilities":[0.001,0.002,0.003,0.004,0.005,0.006,0.007,0.953,0.009,0.01],"truth":7,"status":"relabelled","reviewer":"alice","relativePath":"test\/images\/a.jpg","readMode":"open","split":"test"}', '2026-12-06T02:32:14.863Z', 'reader', 'A9AC8BFE-AC16-423F-8AC6-850BEC4C36C2');
INSERT INTO public.history VALUES (7, 'bob', 'test', 'test/images/b.jpg', NULL, '{"role":"reader","readMode":"blind","split":"test","probabilities":[0.001,0.002,0.003,0.004,0.005,0.006,0.007,0.008,0.954,0.01],"reviewerLabel":4,"reviewer":"bob","relativePath":"test\/images\/b.jpg","status":"relabelled","truth":2,"predicted":8,"weightsID":"4a5ef4d3b8c1e2f0","note":"","reviewedAt":"2026-01-15T09:06:06.292Z"}', '2026-12-06T02:32:14.866Z', 'reader', 'AF314D6E-2FEA-4280-8FDF-653CF378471A');
INSERT INTO public.history VALUES (8, 'carol', 'test', 'test/images/b.jpg', NULL, '{"note":"","reviewerLabel":4,"split":"test","status":"relabelled","probabilities":[],"role":"reader","readMode":"blind-model","relativePath":"test\/images\/b.jpg","truth":2,"reviewedAt":"2026-01-15T09:07:07.299Z","reviewer":"carol","weightsID":"4a5ef4d3b8c1e2f0"}', '2026-12-06T02:32:14.867Z', 'reader', 'EE0BA47D-5491-4905-8966-D9B65EF569B9');
INSERT INTO public.history VALUES (9, 'alice', 'test', 'test/images/b.jpg', NULL, '{"role":"adjudicator","readMode":"open","split":"test","probabilities":[0.001,0.002,0.003,0.004,0.005,0.006,0.007,0.008,0.954,0.01],"reviewerLabel":4,"reviewer":"alice","relativePath":"test\/images\/b.jpg","status":"relabelled","truth":2,"weightsID":"4a5ef4d3b8c1e2f0","predicted":8,"note":"settled","reviewedAt":"2026-01-15T09:08:08.306Z"}', '2026-12-06T02:32:14.869Z', 'adjudicator', '051CACE9-79F2-4A1C-BBED-F4F7AEBDD720');

--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_migrations VALUES ('v1');
INSERT INTO public.schema_migrations VALUES ('v2');
INSERT INTO public.schema_migrations VALUES ('v3');
INSERT INTO public.schema_migrations VALUES ('v4');
INSERT INTO public.schema_migrations VALUES ('v5');

--
-- Data for Name: session; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.session VALUES (1, '/data/hbfmid', '["Comminuted","Greenstick","Healthy","Linear","Oblique Displaced","Oblique","Segmental","Spiral","Transverse Displaced","Transverse"]', '2026-12-06T02:32:14.854Z');

--
-- Name: history_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.history_id_seq', 9, true);

--
-- Name: decision decision_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.decision
    ADD CONSTRAINT decision_pkey PRIMARY KEY (reviewer, role, split, relative_path);

--
-- Name: history history_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.history
    ADD CONSTRAINT history_pkey PRIMARY KEY (id);

--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (identifier);

--
-- Name: session session_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.session
    ADD CONSTRAINT session_pkey PRIMARY KEY (id);

--
-- Name: decision_by_split; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX decision_by_split ON public.decision USING btree (split);

--
-- Name: history_by_op; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX history_by_op ON public.history USING btree (op_id);

--
-- Name: history_by_reviewer; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX history_by_reviewer ON public.history USING btree (reviewer, role, id);

