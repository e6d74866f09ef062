-- One PL/pgSQL block does the whole rewrite, so the same statement runs online and in offline
-- (--sql) scripts, and finds what depends on the type when it runs, not when the revision was
-- written. Dependents are found in the catalogue by OID (pg_depend, pg_attribute, pg_type),
-- never by searching definitions for the type's name. rewrite_sql fills the placeholders in
-- braces with quoted literals.
--
-- Everything is looked up and every statement written before the first change; state lives in
-- variables, not a temporary table, so offline scripts print no notices. Refusals carry
-- SQLSTATEs of our own (class EM, which PostgreSQL does not use): EM001 when rows hold the value
-- to remove, EM002 when the rewrite cannot go ahead. Either way nothing was changed.
DO $enum_rewrite$
DECLARE
    type_schema text := coalesce({schema}, current_schema());
    type_name text := {name};
    removing text := {removing};
    new_values text[] := ARRAY[{values}]::text[];
    enum_oid oid;
    spelled text;
    aside text;
    -- The enum, the domains over it and their array types; and what each becomes.
    old_oids oid[] := '{{}}';
    new_types text[] := '{{}}';
    refusals text[] := '{{}}';
    holders text[] := '{{}}';
    -- Statements in the order they run, each with the object it concerns for messages.
    drops text[] := '{{}}';
    swaps text[] := '{{}}';
    swapped text[] := '{{}}';
    converts text[] := '{{}}';
    convert_tables text[] := '{{}}';
    retires text[] := '{{}}';
    restores text[] := '{{}}';
    restored text[] := '{{}}';
    statements text[];
    subjects text[];
    found_row record;
    held bigint;
    position int;
    statement text;
BEGIN
    SELECT t.oid INTO enum_oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typname = type_name AND n.nspname = type_schema AND t.typtype = 'e';
    IF enum_oid IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EM002', MESSAGE = format(
            'cannot rewrite enum %s: there is no such enum type; nothing was changed.',
            quote_ident(type_schema) || '.' || quote_ident(type_name));
    END IF;
    spelled := format('%I.%I', type_schema, type_name);
    old_oids := ARRAY[enum_oid, (SELECT typarray FROM pg_type WHERE oid = enum_oid)];
    new_types := ARRAY[spelled, spelled || '[]'];
    -- The old type steps aside as <name>__old, or by its OID where that name is taken or too long.
    aside := CASE WHEN octet_length(type_name) <= 58
                       AND to_regtype(format('%I.%I', type_schema, type_name || '__old')) IS NULL
                  THEN type_name || '__old' ELSE format('enum_%s__old', enum_oid) END;
    swaps := swaps || format('ALTER TYPE %s RENAME TO %I', spelled, aside);
    swaps := swaps || format('CREATE TYPE %s AS ENUM (%s)', spelled,
        (SELECT string_agg(quote_literal(v), ', ' ORDER BY i)
         FROM unnest(new_values) WITH ORDINALITY AS u(v, i)));
    swapped := ARRAY[NULL, NULL]::text[];
    retires := format('DROP TYPE %I.%I', type_schema, aside) || retires;

    -- Domains over the type (or its array, or another such domain): ALTER DOMAIN cannot change
    -- a base type, so each is renamed away, created again over the new type with its default and
    -- constraints, and dropped once no column uses it.
    FOR found_row IN
        WITH RECURSIVE domains(oid, depth) AS (
            SELECT t.oid, 1 FROM pg_type t
            WHERE t.typtype = 'd' AND t.typbasetype = ANY(old_oids)
            UNION ALL
            SELECT t.oid, d.depth + 1 FROM domains d JOIN pg_type b ON b.oid = d.oid
            JOIN pg_type t ON t.typtype = 'd' AND t.typbasetype IN (b.oid, b.typarray)
        )
        SELECT t.oid, t.typarray, t.typbasetype, n.nspname, t.typname, t.typnotnull,
               pg_get_expr(t.typdefaultbin, 0) AS default_sql,
               (SELECT string_agg(format(' CONSTRAINT %I %s', k.conname,
                                         pg_get_constraintdef(k.oid)), '' ORDER BY k.conname)
                FROM pg_constraint k WHERE k.contypid = t.oid) AS constraints,
               EXISTS (SELECT 1 FROM pg_constraint k
                       WHERE k.contypid = t.oid AND k.contype = 'n') AS not_null_is_constraint,
               max(d.depth) AS depth
        FROM domains d JOIN pg_type t ON t.oid = d.oid
        JOIN pg_namespace n ON n.oid = t.typnamespace
        GROUP BY t.oid, n.nspname
        ORDER BY depth, n.nspname, t.typname
    LOOP
        spelled := format('%I.%I', found_row.nspname, found_row.typname);
        aside := CASE WHEN octet_length(found_row.typname) <= 58
                           AND to_regtype(format('%I.%I', found_row.nspname,
                                                 found_row.typname || '__old')) IS NULL
                      THEN found_row.typname || '__old'
                      ELSE format('domain_%s__old', found_row.oid) END;
        swaps := swaps || format('ALTER DOMAIN %s RENAME TO %I', spelled, aside);
        swaps := swaps || (format('CREATE DOMAIN %s AS %s', spelled,
                                  new_types[array_position(old_oids, found_row.typbasetype)])
            || coalesce(' DEFAULT ' || found_row.default_sql, '')
            || CASE WHEN found_row.typnotnull AND NOT found_row.not_null_is_constraint
                    THEN ' NOT NULL' ELSE '' END
            || coalesce(found_row.constraints, ''));
        WHILE cardinality(swapped) < cardinality(swaps) LOOP
            swapped := swapped || format('domain %s', spelled);
        END LOOP;
        retires := format('DROP DOMAIN %I.%I', found_row.nspname, aside) || retires;
        old_oids := old_oids || ARRAY[found_row.oid, found_row.typarray];
        new_types := new_types || ARRAY[spelled, spelled || '[]'];
    END LOOP;

    -- The type and its domains keep their owners, comments and grants.
    FOR found_row IN
        SELECT t.typacl, t.typowner, pg_get_userbyid(t.typowner) AS owner,
               obj_description(t.oid, 'pg_type') AS note,
               new_types[array_position(old_oids, t.oid)] AS spelled
        FROM pg_type t WHERE t.oid = ANY(old_oids) AND t.typtype IN ('e', 'd')
    LOOP
        restores := restores || format('ALTER TYPE %s OWNER TO %I', found_row.spelled,
                                       found_row.owner);
        IF found_row.note IS NOT NULL THEN
            restores := restores || format('COMMENT ON TYPE %s IS %L', found_row.spelled,
                                           found_row.note);
        END IF;
        IF found_row.typacl IS NOT NULL THEN
            restores := restores || format('REVOKE ALL ON TYPE %s FROM PUBLIC', found_row.spelled)
                || ARRAY(SELECT format('GRANT %s ON TYPE %s TO %s%s', g.privilege_type,
                                       found_row.spelled,
                                       CASE g.grantee WHEN 0 THEN 'PUBLIC'
                                            ELSE quote_ident(pg_get_userbyid(g.grantee)) END,
                                       CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION'
                                            ELSE '' END)
                         FROM aclexplode(found_row.typacl) g
                         WHERE g.grantee <> found_row.typowner);
        END IF;
        WHILE cardinality(restored) < cardinality(restores) LOOP
            restored := restored || format('type %s', found_row.spelled);
        END LOOP;
    END LOOP;

    -- The partition key cannot change type; say so before anything changes.
    SELECT refusals || array_agg(DISTINCT format(
            'it types the partition key of %I.%I, and PostgreSQL cannot change the type of a '
            || 'partition key column', n.nspname, c.relname))
        INTO refusals
        FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.atttypid = ANY(old_oids)
        WHERE a.attnum = ANY(p.partattrs::int2[])
           OR EXISTS (SELECT 1 FROM pg_depend dep
                      WHERE dep.classid = 'pg_class'::regclass AND dep.objid = p.partrelid
                        AND dep.objsubid = 0 AND dep.refobjid = p.partrelid
                        AND dep.refobjsubid = a.attnum);

    -- Columns of tables: converted once, at the table that declares them. Partitions and
    -- inheritance children follow their parent (converting them apart is refused by PostgreSQL).
    FOR found_row IN
        SELECT n.nspname, c.relname, a.attname, t.typcategory = 'A' AS is_array,
               new_types[array_position(old_oids, a.atttypid)] AS target
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.atttypid = ANY(old_oids) AND NOT a.attisdropped AND a.attnum > 0
          AND a.attinhcount = 0 AND c.relkind IN ('r', 'p')
        ORDER BY 1, 2, a.attnum
    LOOP
        IF removing IS NOT NULL THEN
            EXECUTE format(
                CASE WHEN found_row.is_array
                    THEN 'SELECT count(*) FROM %I.%I WHERE %L = ANY(%I::text[])'
                    ELSE 'SELECT count(*) FROM %I.%I WHERE %4$I::text = %3$L' END,
                found_row.nspname, found_row.relname, removing, found_row.attname
            ) INTO held;
            IF held > 0 THEN
                holders := holders || format('%s rows of %s.%s.%s', held,
                    found_row.nspname, found_row.relname, found_row.attname);
            END IF;
        END IF;
        statement := format('%I.%I', found_row.nspname, found_row.relname);
        position := array_position(convert_tables, statement);
        IF position IS NULL THEN
            convert_tables := convert_tables || statement;
            converts := converts || ('ALTER TABLE ' || statement);
            position := cardinality(convert_tables);
        ELSE
            converts[position] := converts[position] || ',';
        END IF;
        converts[position] := converts[position] || format(
            ' ALTER COLUMN %1$I TYPE %2$s USING %1$I::%3$s::%2$s', found_row.attname,
            found_row.target, CASE WHEN found_row.is_array THEN 'text[]' ELSE 'text' END);
    END LOOP;
    IF cardinality(holders) > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'EM001', MESSAGE = format(
            'cannot remove %s from enum %s: still held by %s. '
            || 'Change or delete those rows first; nothing was changed.',
            quote_literal(removing), type_name, array_to_string(holders, ', '));
    END IF;

    -- Generated columns reading the type or its columns: PostgreSQL will not convert a column a
    -- generation expression reads, so the expression is set to NULL first and set back after
    -- the conversion (computed again from the converted column): two more rewrites of the table.
    -- (Setting it back in the conversion's own ALTER TABLE fails on PostgreSQL 18 with 'cache
    -- lookup failed for constraint' when the table has a NOT NULL column.)
    FOR found_row IN
        SELECT n.nspname, c.relname, a.attname, a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid) AS expression
        FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
        JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE a.attgenerated <> '' AND a.attinhcount = 0 AND c.relkind IN ('r', 'p')
          AND EXISTS (
              SELECT 1 FROM pg_depend dep
              WHERE dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid
                AND (dep.refobjid = ANY(old_oids)
                     OR EXISTS (SELECT 1 FROM pg_attribute r
                                WHERE dep.refclassid = 'pg_class'::regclass
                                  AND r.attrelid = dep.refobjid AND r.attnum = dep.refobjsubid
                                  AND r.atttypid = ANY(old_oids))))
        ORDER BY 1, 2, a.attnum
    LOOP
        IF current_setting('server_version_num')::int < 170000 OR found_row.attnotnull THEN
            refusals := refusals || format(
                'generated column %I.%I.%I reads it, and %s', found_row.nspname,
                found_row.relname, found_row.attname,
                CASE WHEN found_row.attnotnull
                    THEN 'is NOT NULL, so its expression cannot be set aside during the rewrite'
                    ELSE 'PostgreSQL before 17 cannot set a generation expression' END);
            CONTINUE;
        END IF;
        statement := format('ALTER TABLE %I.%I ALTER COLUMN %I SET EXPRESSION AS',
                            found_row.nspname, found_row.relname, found_row.attname);
        drops := drops || (statement || ' (NULL)');
        restores := restores || format('%s (%s)', statement, found_row.expression);
        restored := restored || format('generated column %I.%I.%I', found_row.nspname,
                                       found_row.relname, found_row.attname);
    END LOOP;

    -- Defaults of columns of the type, or mentioning it: each relation's own (ONLY), restored
    -- after the conversion exactly where they were.
    FOR found_row IN
        SELECT n.nspname, c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid) AS default_sql
        FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
        JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE a.attgenerated = '' AND c.relkind IN ('r', 'p')
          AND (a.atttypid = ANY(old_oids)
               OR EXISTS (SELECT 1 FROM pg_depend dep
                          WHERE dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid
                            AND dep.refobjid = ANY(old_oids)))
        ORDER BY 1, 2, a.attnum
    LOOP
        statement := format('ALTER TABLE ONLY %I.%I ALTER COLUMN %I', found_row.nspname,
                            found_row.relname, found_row.attname);
        drops := drops || (statement || ' DROP DEFAULT');
        restores := restores || (statement || ' SET DEFAULT ' || found_row.default_sql);
        restored := restored || format('the default of %I.%I.%I', found_row.nspname,
                                       found_row.relname, found_row.attname);
    END LOOP;

    -- Indexes whose expressions or predicates hold a value of the type (pg_depend on the type),
    -- outside constraints; an index of a partition goes and comes back with its parent's.
    FOR found_row IN
        SELECT i.oid, n.nspname, i.relname, pg_get_indexdef(i.oid) AS create_sql,
               obj_description(i.oid, 'pg_class') AS note
        FROM pg_class i JOIN pg_index x ON x.indexrelid = i.oid
        JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = i.relnamespace
        WHERE NOT i.relispartition AND c.relkind IN ('r', 'p')
          AND EXISTS (SELECT 1 FROM pg_depend dep
                      WHERE dep.classid = 'pg_class'::regclass AND dep.objid = i.oid
                        AND dep.refclassid = 'pg_type'::regclass
                        AND dep.refobjid = ANY(old_oids))
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid
                          AND k.contype IN ('p', 'u', 'x'))
        ORDER BY 1, 2
    LOOP
        drops := drops || format('DROP INDEX %I.%I', found_row.nspname, found_row.relname);
        restores := restores || found_row.create_sql;
        restored := restored || format('index %I.%I', found_row.nspname, found_row.relname);
        IF found_row.note IS NOT NULL THEN
            restores := restores || format('COMMENT ON INDEX %I.%I IS %L', found_row.nspname,
                                           found_row.relname, found_row.note);
            restored := restored || format('index %I.%I', found_row.nspname, found_row.relname);
        END IF;
        -- A partitioned index is created again ON ONLY its table: its partitions' indexes are
        -- created again too, under their own names, and attached, the deepest first.
        statements := ARRAY(
            WITH RECURSIVE tree(child, parent, depth) AS (
                SELECT inhrelid, inhparent, 1 FROM pg_inherits WHERE inhparent = found_row.oid
                UNION ALL
                SELECT h.inhrelid, h.inhparent, tree.depth + 1
                FROM tree JOIN pg_inherits h ON h.inhparent = tree.child
            )
            SELECT pg_get_indexdef(child) FROM tree ORDER BY depth, child);
        statements := statements || ARRAY(
            WITH RECURSIVE tree(child, parent, depth) AS (
                SELECT inhrelid, inhparent, 1 FROM pg_inherits WHERE inhparent = found_row.oid
                UNION ALL
                SELECT h.inhrelid, h.inhparent, tree.depth + 1
                FROM tree JOIN pg_inherits h ON h.inhparent = tree.child
            )
            SELECT format('ALTER INDEX %s ATTACH PARTITION %s', parent::regclass, child::regclass)
            FROM tree ORDER BY depth DESC, child);
        restores := restores || statements;
        WHILE cardinality(restored) < cardinality(restores) LOOP
            restored := restored || format('index %I.%I', found_row.nspname, found_row.relname);
        END LOOP;
    END LOOP;

    -- CHECK and exclusion constraints holding a value of the type, declared on the table itself
    -- (a partition's inherited copy goes and comes back with its parent's).
    FOR found_row IN
        SELECT n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid) AS definition
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE k.contype IN ('c', 'x') AND k.coninhcount = 0 AND c.relkind IN ('r', 'p')
          AND EXISTS (SELECT 1 FROM pg_depend dep
                      WHERE dep.refclassid = 'pg_type'::regclass AND dep.refobjid = ANY(old_oids)
                        AND ((dep.classid = 'pg_constraint'::regclass AND dep.objid = k.oid)
                             OR (dep.classid = 'pg_class'::regclass AND dep.objid = k.conindid)))
        ORDER BY 1, 2, 3
    LOOP
        statement := format('ALTER TABLE %I.%I', found_row.nspname, found_row.relname);
        drops := drops || format('%s DROP CONSTRAINT %I', statement, found_row.conname);
        restores := restores || format('%s ADD CONSTRAINT %I %s', statement, found_row.conname,
                                       found_row.definition);
        restored := restored || format('constraint %I on %I.%I', found_row.conname,
                                       found_row.nspname, found_row.relname);
    END LOOP;

    -- Views and materialized views reading the type or its columns, and the views reading
    -- those: PostgreSQL will not convert a column a view reads, so each is dropped (the deepest
    -- first) and created again from its own definition (pg_get_viewdef), with its options,
    -- owner, comments, grants and, for a materialized view, its indexes; a populated
    -- materialized view is created WITH DATA, so it is computed again.
    FOR found_row IN
        WITH RECURSIVE reached(view_oid, depth) AS (
            SELECT r.ev_class, 1 FROM pg_depend dep JOIN pg_rewrite r ON r.oid = dep.objid
            WHERE dep.classid = 'pg_rewrite'::regclass AND r.ev_class <> dep.refobjid
              AND ((dep.refclassid = 'pg_type'::regclass AND dep.refobjid = ANY(old_oids))
                   OR (dep.refclassid = 'pg_class'::regclass
                       AND EXISTS (SELECT 1 FROM pg_attribute a
                                   WHERE a.attrelid = dep.refobjid
                                     AND a.attnum = dep.refobjsubid
                                     AND a.atttypid = ANY(old_oids))))
            UNION
            SELECT a.attrelid, 1 FROM pg_attribute a JOIN pg_class v ON v.oid = a.attrelid
            WHERE a.atttypid = ANY(old_oids) AND v.relkind IN ('v', 'm')
            UNION
            SELECT r.ev_class, reached.depth + 1
            FROM reached JOIN pg_depend dep ON dep.refclassid = 'pg_class'::regclass
                AND dep.refobjid = reached.view_oid AND dep.classid = 'pg_rewrite'::regclass
            JOIN pg_rewrite r ON r.oid = dep.objid AND r.ev_class <> reached.view_oid
        )
        SELECT v.oid, v.relkind, n.nspname, v.relname, v.reloptions, v.relispopulated,
               v.reltablespace, v.relacl, pg_get_userbyid(v.relowner) AS owner,
               regexp_replace(pg_get_viewdef(v.oid), ';\s*$', '') AS definition,
               obj_description(v.oid, 'pg_class') AS note,
               CASE v.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END AS kind,
               max(reached.depth) AS depth,
               ARRAY(SELECT format('rule %I', rulename) FROM pg_rewrite
                     WHERE ev_class = v.oid AND rulename <> '_RETURN'
                     UNION ALL
                     SELECT format('trigger %I', tgname) FROM pg_trigger WHERE tgrelid = v.oid
                     UNION ALL
                     SELECT format('the default of column %I', a.attname)
                     FROM pg_attrdef d JOIN pg_attribute a
                         ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                     WHERE d.adrelid = v.oid
                     UNION ALL
                     SELECT format('the grants on column %I', attname) FROM pg_attribute
                     WHERE attrelid = v.oid AND attacl IS NOT NULL
                     UNION ALL
                     SELECT format('%s''s grant of %s', pg_get_userbyid(g.grantor),
                                   g.privilege_type)
                     FROM aclexplode(v.relacl) g WHERE g.grantor <> v.relowner
                     UNION ALL
                     SELECT pg_describe_object(dep.classid, dep.objid, dep.objsubid)
                         || ', which uses its row type'
                     FROM pg_depend dep
                     WHERE dep.refclassid = 'pg_type'::regclass AND dep.refobjid = v.reltype
                       AND dep.deptype = 'n') AS losses
        FROM reached JOIN pg_class v ON v.oid = reached.view_oid AND v.relkind IN ('v', 'm')
        JOIN pg_namespace n ON n.oid = v.relnamespace
        GROUP BY v.oid, n.nspname
        ORDER BY depth, n.nspname, v.relname
    LOOP
        IF cardinality(found_row.losses) > 0 THEN
            refusals := refusals || format(
                'recreating %s %I.%I, which reads it, would lose %s', lower(found_row.kind),
                found_row.nspname, found_row.relname,
                array_to_string(found_row.losses, ', '));
            CONTINUE;
        END IF;
        spelled := format('%I.%I', found_row.nspname, found_row.relname);
        drops := format('DROP %s %s', found_row.kind, spelled) || drops;
        restores := restores || (format('CREATE %s %s', found_row.kind, spelled)
            || coalesce(' WITH (' || array_to_string(found_row.reloptions, ', ') || ')', '')
            || CASE WHEN found_row.reltablespace <> 0 THEN
                   format(' TABLESPACE %I', (SELECT spcname FROM pg_tablespace
                                             WHERE oid = found_row.reltablespace))
               ELSE '' END
            || ' AS ' || found_row.definition
            || CASE WHEN found_row.relkind <> 'm' THEN ''
                    WHEN found_row.relispopulated THEN ' WITH DATA' ELSE ' WITH NO DATA' END);
        restores := restores || format('ALTER %s %s OWNER TO %I', found_row.kind, spelled,
                                       found_row.owner);
        IF found_row.note IS NOT NULL THEN
            restores := restores || format('COMMENT ON %s %s IS %L', found_row.kind, spelled,
                                           found_row.note);
        END IF;
        restores := restores || ARRAY(
            SELECT format('COMMENT ON COLUMN %s.%I IS %L', spelled, a.attname,
                          col_description(found_row.oid, a.attnum))
            FROM pg_attribute a
            WHERE a.attrelid = found_row.oid AND a.attnum > 0
              AND col_description(found_row.oid, a.attnum) IS NOT NULL
            UNION ALL
            SELECT format('GRANT %s ON %s TO %s%s', g.privilege_type, spelled,
                          CASE g.grantee WHEN 0 THEN 'PUBLIC'
                               ELSE quote_ident(pg_get_userbyid(g.grantee)) END,
                          CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
            FROM aclexplode(found_row.relacl) g
            WHERE g.grantee <> (SELECT relowner FROM pg_class WHERE oid = found_row.oid)
            UNION ALL
            SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x
            WHERE x.indrelid = found_row.oid);
        WHILE cardinality(restored) < cardinality(restores) LOOP
            restored := restored || format('%s %s', lower(found_row.kind), spelled);
        END LOOP;
    END LOOP;

    -- Anything else using the type, or reading its columns, would stop the rewrite halfway
    -- (functions, operators, casts, composite types, rules on tables, policies, triggers' WHEN):
    -- name it now instead.
    statements := ARRAY(
        SELECT DISTINCT pg_describe_object(dep.classid, dep.objid, dep.objsubid)
        FROM pg_depend dep
        LEFT JOIN pg_class c ON dep.classid = 'pg_class'::regclass AND c.oid = dep.objid
        LEFT JOIN pg_rewrite r ON dep.classid = 'pg_rewrite'::regclass AND r.oid = dep.objid
        LEFT JOIN pg_class rc ON rc.oid = r.ev_class
        WHERE dep.deptype = 'n'
          AND ((dep.refclassid = 'pg_type'::regclass AND dep.refobjid = ANY(old_oids)
                AND dep.classid NOT IN ('pg_type'::regclass, 'pg_constraint'::regclass,
                                        'pg_attrdef'::regclass)
                AND (dep.classid <> 'pg_class'::regclass
                     OR c.relkind NOT IN ('r', 'p', 'v', 'm', 'i', 'I'))
                AND (dep.classid <> 'pg_rewrite'::regclass OR rc.relkind NOT IN ('v', 'm')))
               OR (dep.refclassid = 'pg_class'::regclass
                   AND dep.classid IN ('pg_policy'::regclass, 'pg_trigger'::regclass)
                   AND EXISTS (SELECT 1 FROM pg_attribute a
                               WHERE a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid
                                 AND a.atttypid = ANY(old_oids))))
        ORDER BY 1);
    IF cardinality(statements) > 0 THEN
        refusals := refusals || (array_to_string(statements, ', ')
            || CASE WHEN cardinality(statements) = 1 THEN ' uses it' ELSE ' use it' END
            || ', and this rewrite cannot carry that over');
    END IF;

    IF cardinality(refusals) > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'EM002', MESSAGE = format(
            'cannot rewrite enum %s: %s. Nothing was changed.',
            type_name, array_to_string(refusals, '; '));
    END IF;

    PERFORM set_config('lock_timeout', {lock_timeout}, true);
    -- Every statement in order; a definition brought back (a domain, or what was set aside)
    -- that still mentions the removed value is named.
    statements := drops || swaps || converts || retires || restores;
    subjects := array_fill(NULL::text, ARRAY[cardinality(drops)]) || swapped
        || array_fill(NULL::text, ARRAY[cardinality(converts) + cardinality(retires)])
        || restored;
    FOR position IN 1 .. cardinality(statements) LOOP
        BEGIN
            EXECUTE statements[position];
        EXCEPTION WHEN invalid_text_representation THEN
            IF subjects[position] IS NULL OR removing IS NULL THEN
                RAISE;
            END IF;
            RAISE EXCEPTION USING ERRCODE = 'EM002', MESSAGE = format(
                'cannot remove %s from enum %s: %s still mentions it. Change or drop it first; '
                || 'nothing was changed.', quote_literal(removing), type_name, subjects[position]);
        END;
    END LOOP;
END
$enum_rewrite$
