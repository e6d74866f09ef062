-- One PL/pgSQL block does the whole rewrite, so the same statement runs online and in offline
-- (--sql) scripts, and looks up the columns, rows, indexes and constraints when it runs, not when
-- the revision was written. rewrite_sql fills the placeholders in braces with quoted literals.
DO $enum_rewrite$
DECLARE
    type_schema text := coalesce({schema}, current_schema());
    type_name text := {name};
    removing text := {removing};
    new_values text[] := ARRAY[{values}]::text[];
    old_name text := {name} || '__old';
    columns_of record;
    dependent record;
    held bigint;
    holders text[] := '{{}}';
    views text;
    drops text[] := '{{}}';
    creates text[] := '{{}}';
    statement text;
    target text;
BEGIN
    DROP TABLE IF EXISTS pg_temp.enum_columns;
    CREATE TEMP TABLE enum_columns ON COMMIT DROP AS
        SELECT n.nspname AS table_schema, c.relname AS table_name, a.attname AS column_name,
               a.atttypid = t.typarray AS is_array, pg_get_expr(d.adbin, d.adrelid) AS default_sql
        FROM pg_type t JOIN pg_namespace tn ON tn.oid = t.typnamespace
        JOIN pg_attribute a ON a.atttypid IN (t.oid, t.typarray) AND NOT a.attisdropped
        JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p')
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE t.typname = type_name AND tn.nspname = type_schema;

    IF removing IS NOT NULL THEN
        FOR columns_of IN SELECT * FROM enum_columns ORDER BY 1, 2, 3 LOOP
            EXECUTE format(
                CASE WHEN columns_of.is_array
                    THEN 'SELECT count(*) FROM %I.%I WHERE %L = ANY(%I::text[])'
                    ELSE 'SELECT count(*) FROM %I.%I WHERE %4$I::text = %3$L' END,
                columns_of.table_schema, columns_of.table_name, removing, columns_of.column_name
            ) INTO held;
            IF held > 0 THEN
                holders := holders || format('%s rows of %s.%s.%s', held,
                    columns_of.table_schema, columns_of.table_name, columns_of.column_name);
            END IF;
        END LOOP;
        IF cardinality(holders) > 0 THEN
            RAISE EXCEPTION USING MESSAGE = format(
                'cannot remove %s from enum %s: still held by %s. '
                || 'Change or delete those rows first; nothing was changed.',
                quote_literal(removing), type_name, array_to_string(holders, ', '));
        END IF;
    END IF;

    -- PostgreSQL cannot change the type of a column a view reads: say which, before any change.
    SELECT string_agg(DISTINCT vn.nspname || '.' || v.relname, ', ') INTO views
        FROM pg_type t JOIN pg_namespace tn ON tn.oid = t.typnamespace
        JOIN pg_attribute a ON a.atttypid IN (t.oid, t.typarray)
        JOIN pg_depend dep ON dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum
        JOIN pg_rewrite r ON r.oid = dep.objid JOIN pg_class v ON v.oid = r.ev_class
        JOIN pg_namespace vn ON vn.oid = v.relnamespace
        WHERE t.typname = type_name AND tn.nspname = type_schema AND v.oid <> a.attrelid;
    IF views IS NOT NULL THEN
        RAISE EXCEPTION USING MESSAGE = format(
            'cannot rewrite enum %s: views %s read its columns. Drop them before this '
            || 'operation and recreate them after it, in the same revision; nothing was changed.',
            type_name, views);
    END IF;

    PERFORM set_config('lock_timeout', {lock_timeout}, true);

    -- Indexes and CHECK constraints that mention the type: their SQL, kept to recreate them.
    FOR dependent IN
        SELECT format('DROP INDEX %I.%I', n.nspname, i.relname) AS drop_sql,
               pg_get_indexdef(i.oid) AS create_sql
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE (n.nspname, c.relname) IN (SELECT table_schema, table_name FROM enum_columns)
          AND pg_get_indexdef(i.oid) LIKE '%::' || type_name || '%'
        UNION ALL
        SELECT format('ALTER TABLE %I.%I DROP CONSTRAINT %I', n.nspname, c.relname, k.conname),
               format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, c.relname,
                      k.conname, pg_get_constraintdef(k.oid))
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE k.contype = 'c'
          AND (n.nspname, c.relname) IN (SELECT table_schema, table_name FROM enum_columns)
          AND pg_get_constraintdef(k.oid) LIKE '%::' || type_name || '%'
    LOOP
        drops := drops || dependent.drop_sql;
        creates := creates || dependent.create_sql;
    END LOOP;
    FOREACH statement IN ARRAY drops LOOP EXECUTE statement; END LOOP;

    EXECUTE format('ALTER TYPE %I.%I RENAME TO %I', type_schema, type_name, old_name);
    EXECUTE format('CREATE TYPE %I.%I AS ENUM (%s)', type_schema, type_name,
        (SELECT string_agg(quote_literal(v), ', ' ORDER BY i)
         FROM unnest(new_values) WITH ORDINALITY AS u(v, i)));
    FOR columns_of IN SELECT * FROM enum_columns LOOP
        target := format('%I.%I', type_schema, type_name)
            || CASE WHEN columns_of.is_array THEN '[]' ELSE '' END;
        IF columns_of.default_sql IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I DROP DEFAULT',
                columns_of.table_schema, columns_of.table_name, columns_of.column_name);
        END IF;
        EXECUTE format('ALTER TABLE %1$I.%2$I ALTER COLUMN %3$I TYPE %4$s USING %3$I::%5$s::%4$s',
            columns_of.table_schema, columns_of.table_name, columns_of.column_name, target,
            CASE WHEN columns_of.is_array THEN 'text[]' ELSE 'text' END);
        IF columns_of.default_sql IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I SET DEFAULT %s',
                columns_of.table_schema, columns_of.table_name, columns_of.column_name,
                columns_of.default_sql);
        END IF;
    END LOOP;
    EXECUTE format('DROP TYPE %I.%I', type_schema, old_name);
    FOREACH statement IN ARRAY creates LOOP EXECUTE statement; END LOOP;
    DROP TABLE enum_columns;
END
$enum_rewrite$
