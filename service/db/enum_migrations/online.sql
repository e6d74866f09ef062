-- The online way to recreate an enum type (online.py says when to choose it). Three PL/pgSQL
-- blocks, run in turn: "prepare" in the revision's transaction, "fill" outside any transaction
-- (it commits after each batch), "swap" in a new transaction that also records the revision.
-- online_sql fills the placeholders in braces with quoted literals.

-- step: prepare
DO $enum_online$
DECLARE
    type_schema text := coalesce({schema}, current_schema());
    type_name text := {name};
    new_type text := {name} || '__new';
    sync_name text := {name} || '__online_sync';
    removing text := {removing};
    new_values text[] := ARRAY[{values}]::text[];
    uses text[];
    blockers text[] := '{{}}';
    marker text := 'left by an online enum migration; dropped when it is run again';
    leftover record;
    target record;
    held bigint;
BEGIN
    -- What an interrupted earlier run left behind (marked by its comment; its column goes with
    -- its type): start over. A type or function of that name but not ours stops it.
    FOR leftover IN
        SELECT format('TYPE %I.%I', type_schema, new_type) AS object,
               obj_description(to_regtype(format('%I.%I', type_schema, new_type)), 'pg_type')
                   AS comment
        WHERE to_regtype(format('%I.%I', type_schema, new_type)) IS NOT NULL
        UNION ALL
        SELECT format('FUNCTION %I.%I()', type_schema, sync_name),
               obj_description(to_regprocedure(format('%I.%I()', type_schema, sync_name)),
                               'pg_proc')
        WHERE to_regprocedure(format('%I.%I()', type_schema, sync_name)) IS NOT NULL
        ORDER BY 1
    LOOP
        IF leftover.comment IS DISTINCT FROM marker THEN
            RAISE EXCEPTION USING ERRCODE = 'EM002', MESSAGE = format(
                'cannot rewrite enum %s online: %s exists '
                || 'and was not made by this migration; nothing was changed.',
                type_name, leftover.object);
        END IF;
        EXECUTE 'DROP ' || leftover.object || ' CASCADE';
    END LOOP;

    -- Every use of the type: the online way handles exactly one, a plain column of a plain table.
    SELECT array_agg(format('%s %s.%s.%s', CASE c.relkind
                WHEN 'r' THEN 'column' WHEN 'p' THEN 'column of partitioned table'
                WHEN 'v' THEN 'column of view' WHEN 'm' THEN 'column of materialized view'
                WHEN 'c' THEN 'attribute of composite type' ELSE 'column of relation' END,
                n.nspname, c.relname, a.attname)
            || CASE WHEN a.atttypid = t.typarray THEN ' (an array)' ELSE '' END
            ORDER BY n.nspname, c.relname, a.attname)
        INTO uses
        FROM pg_type t JOIN pg_namespace tn ON tn.oid = t.typnamespace
        JOIN pg_attribute a ON a.atttypid IN (t.oid, t.typarray) AND NOT a.attisdropped
        JOIN pg_class c ON c.oid = a.attrelid AND c.relkind NOT IN ('i', 'I', 'S')
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE t.typname = type_name AND tn.nspname = type_schema;
    SELECT n.nspname AS table_schema, c.relname AS table_name, a.attname AS column_name,
           c.oid AS table_oid, a.attnum, c.relispartition AS is_partition,
           EXISTS (SELECT FROM pg_inherits i WHERE c.oid IN (i.inhrelid, i.inhparent)) AS inherits,
           (SELECT k.attname FROM pg_index x JOIN pg_attribute k
                ON k.attrelid = x.indrelid AND k.attnum = x.indkey[0]
            WHERE x.indrelid = c.oid AND x.indisprimary AND x.indnatts = 1) AS key_column
        INTO target
        FROM pg_type t JOIN pg_namespace tn ON tn.oid = t.typnamespace
        JOIN pg_attribute a ON a.atttypid = t.oid AND NOT a.attisdropped
        JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE t.typname = type_name AND tn.nspname = type_schema
        ORDER BY 1, 2, 3 LIMIT 1;
    IF coalesce(cardinality(uses), 0) <> 1 OR target.table_name IS NULL THEN
        blockers := blockers || format('it is used by %s',
            coalesce(array_to_string(uses, ', '), 'no column'));
    END IF;
    -- Functions, domains and the like that use the type would stop the swap's DROP TYPE.
    blockers := blockers || ARRAY(
        SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid) || ' uses the type'
        FROM pg_depend d
        WHERE d.refclassid = 'pg_type'::regclass AND d.deptype = 'n'
          AND d.refobjid = to_regtype(format('%I.%I', type_schema, type_name))
          AND d.classid NOT IN ('pg_class'::regclass, 'pg_attrdef'::regclass)  -- listed above
        ORDER BY 1);
    IF target.table_name IS NOT NULL THEN
        IF target.is_partition OR target.inherits THEN
            blockers := blockers || format('%I.%I is a partition or takes part in inheritance',
                target.table_schema, target.table_name);
        END IF;
        IF target.key_column IS NULL THEN
            blockers := blockers || format('%I.%I has no single-column primary key to fill it by',
                target.table_schema, target.table_name);
        END IF;
        -- Anything that depends on the column (indexes, constraints, views, statistics...) but
        -- its default would have to be dropped and recreated around the swap.
        blockers := blockers || ARRAY(
            SELECT DISTINCT pg_describe_object(d.classid, d.objid, 0) || ' uses the column'
            FROM pg_depend d
            WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = target.table_oid
              AND d.refobjsubid = target.attnum AND d.classid <> 'pg_attrdef'::regclass
              AND NOT EXISTS (SELECT FROM pg_constraint k  -- NOT NULL, a constraint since 18
                              WHERE d.classid = 'pg_constraint'::regclass
                                AND k.oid = d.objid AND k.contype = 'n')
            ORDER BY 1);
    END IF;
    IF cardinality(blockers) > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'EM002', MESSAGE = format(
            'cannot rewrite enum %s online: %s. The online way converts one plain column of '
            || 'one plain table (no arrays, indexes, constraints, views, partitions, other '
            || 'columns or functions of the type); use the default way, without online=True, '
            || 'or drop and recreate what is named around it; nothing was changed.',
            type_name, array_to_string(blockers, '; '));
    END IF;

    IF removing IS NOT NULL THEN
        EXECUTE format('SELECT count(*) FROM %I.%I WHERE %I::text = %L',
            target.table_schema, target.table_name, target.column_name, removing) INTO held;
        IF held > 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'EM001', MESSAGE = format(
                'cannot remove %s from enum %s: still held by %s rows of %s.%s.%s. '
                || 'Change or delete those rows first; nothing was changed.',
                quote_literal(removing), type_name, held,
                target.table_schema, target.table_name, target.column_name);
        END IF;
    END IF;

    -- Brief ACCESS EXCLUSIVE locks (catalog changes only), given up after the lock timeout.
    PERFORM set_config('lock_timeout', {lock_timeout}, true);
    EXECUTE format('CREATE TYPE %I.%I AS ENUM (%s)', type_schema, new_type,
        (SELECT string_agg(quote_literal(v), ', ' ORDER BY i)
         FROM unnest(new_values) WITH ORDINALITY AS u(v, i)));
    EXECUTE format('COMMENT ON TYPE %I.%I IS %L', type_schema, new_type, marker);
    EXECUTE format('ALTER TABLE %I.%I ADD COLUMN %I %I.%I', target.table_schema,
        target.table_name, target.column_name || '__new', type_schema, new_type);
    -- Keeps the new column in step with every row written from now on.
    EXECUTE format(
        'CREATE FUNCTION %1$I.%2$I() RETURNS trigger LANGUAGE plpgsql AS '
        || '$sync$BEGIN NEW.%3$I := NEW.%4$I::text::%1$I.%5$I; RETURN NEW; END$sync$',
        type_schema, sync_name, target.column_name || '__new', target.column_name, new_type);
    EXECUTE format('COMMENT ON FUNCTION %I.%I() IS %L', type_schema, sync_name, marker);
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF %I ON %I.%I '
        || 'FOR EACH ROW EXECUTE FUNCTION %I.%I()', sync_name, target.column_name,
        target.table_schema, target.table_name, type_schema, sync_name);
END
$enum_online$;

-- step: fill
DO $enum_online$
DECLARE
    type_schema text := coalesce({schema}, current_schema());
    type_name text := {name};
    new_type text := {name} || '__new';
    sync_name text := {name} || '__online_sync';
    removing text := {removing};
    target record;
    last_key text;
    next_key text;
    lower_bound text;
    failure text;
BEGIN
    SELECT n.nspname AS table_schema, c.relname AS table_name, a.attname AS column_name,
           a.attnotnull AS not_null, format_type(k.atttypid, k.atttypmod) AS key_type,
           k.attname AS key_column
        INTO STRICT target
        FROM pg_type t JOIN pg_namespace tn ON tn.oid = t.typnamespace
        JOIN pg_attribute a ON a.atttypid = t.oid AND NOT a.attisdropped
        JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_index x ON x.indrelid = c.oid AND x.indisprimary
        JOIN pg_attribute k ON k.attrelid = c.oid AND k.attnum = x.indkey[0]
        WHERE t.typname = type_name AND tn.nspname = type_schema;

    -- Existing rows, in batches by primary key: each batch a short transaction of its own, a
    -- range of the key found on its index, so no batch scans the table.
    LOOP
        lower_bound := CASE WHEN last_key IS NULL THEN 'true'
            ELSE format('%I > %L::%s', target.key_column, last_key, target.key_type) END;
        -- (ORDER BY the key itself, t.key: a bare name would sort by the text in the list.)
        EXECUTE format('SELECT t.%1$I::text FROM %2$I.%3$I t WHERE %4$s ORDER BY t.%1$I '
            || 'OFFSET %5$s LIMIT 1', target.key_column, target.table_schema, target.table_name,
            lower_bound, {batch_rows} - 1) INTO next_key;
        BEGIN
            EXECUTE format('UPDATE %I.%I SET %I = %I::text::%I.%I WHERE %s AND %s',
                target.table_schema, target.table_name, target.column_name || '__new',
                target.column_name, type_schema, new_type, lower_bound,
                CASE WHEN next_key IS NULL THEN 'true'
                    ELSE format('%I <= %L::%s', target.key_column, next_key, target.key_type) END);
        EXCEPTION WHEN invalid_text_representation THEN
            failure := SQLERRM;  -- a row took the removed value after the check
        END;
        EXIT WHEN failure IS NOT NULL OR next_key IS NULL;
        last_key := next_key;
        COMMIT;
    END LOOP;

    IF failure IS NOT NULL THEN
        EXECUTE format('DROP FUNCTION %I.%I() CASCADE', type_schema, sync_name);
        EXECUTE format('DROP TYPE %I.%I CASCADE', type_schema, new_type);
        COMMIT;
        RAISE EXCEPTION USING ERRCODE = 'EM001', MESSAGE = format(
            'cannot remove %s from enum %s: a row of %s.%s.%s took it during the migration (%s). '
            || 'Change or delete those rows first; nothing was changed.',
            quote_literal(removing), type_name,
            target.table_schema, target.table_name, target.column_name, failure);
    END IF;

    -- NOT NULL, proved now by a CHECK validated without blocking reads or writes, lets the swap
    -- set NOT NULL without scanning the table.
    IF target.not_null THEN
        PERFORM set_config('lock_timeout', {lock_timeout}, true);
        EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I CHECK (%I IS NOT NULL) NOT VALID',
            target.table_schema, target.table_name, target.column_name || '__new_not_null',
            target.column_name || '__new');
        COMMIT;
        EXECUTE format('ALTER TABLE %I.%I VALIDATE CONSTRAINT %I',
            target.table_schema, target.table_name, target.column_name || '__new_not_null');
        COMMIT;
    END IF;
END
$enum_online$;

-- step: swap
DO $enum_online$
DECLARE
    type_schema text := coalesce({schema}, current_schema());
    type_name text := {name};
    new_type text := {name} || '__new';
    sync_name text := {name} || '__online_sync';
    type_comment text;
    target record;
BEGIN
    SELECT n.nspname AS table_schema, c.relname AS table_name, a.attname AS column_name,
           a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default_sql
        INTO STRICT target
        FROM pg_type t JOIN pg_namespace tn ON tn.oid = t.typnamespace
        JOIN pg_attribute a ON a.atttypid = t.oid AND NOT a.attisdropped
        JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE t.typname = type_name AND tn.nspname = type_schema;

    -- From here to the end of the revision's transaction the table is ACCESS EXCLUSIVE: only
    -- catalog changes, no scan and no rewrite.
    PERFORM set_config('lock_timeout', {lock_timeout}, true);
    EXECUTE format('LOCK TABLE %I.%I IN ACCESS EXCLUSIVE MODE',
        target.table_schema, target.table_name);
    EXECUTE format('DROP TRIGGER %I ON %I.%I', sync_name, target.table_schema, target.table_name);
    EXECUTE format('DROP FUNCTION %I.%I()', type_schema, sync_name);
    EXECUTE format('ALTER TABLE %I.%I DROP COLUMN %I',
        target.table_schema, target.table_name, target.column_name);
    EXECUTE format('ALTER TABLE %I.%I RENAME COLUMN %I TO %I', target.table_schema,
        target.table_name, target.column_name || '__new', target.column_name);
    IF target.not_null THEN
        EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I SET NOT NULL',
            target.table_schema, target.table_name, target.column_name);
        EXECUTE format('ALTER TABLE %I.%I DROP CONSTRAINT %I', target.table_schema,
            target.table_name, target.column_name || '__new_not_null');
    END IF;
    type_comment := obj_description(to_regtype(format('%I.%I', type_schema, type_name)), 'pg_type');
    EXECUTE format('DROP TYPE %I.%I', type_schema, type_name);
    EXECUTE format('ALTER TYPE %I.%I RENAME TO %I', type_schema, new_type, type_name);
    EXECUTE format('COMMENT ON TYPE %I.%I IS %s', type_schema, type_name,
        coalesce(quote_literal(type_comment), 'NULL'));
    IF target.default_sql IS NOT NULL THEN  -- its text names the type, now the new one
        EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I SET DEFAULT %s',
            target.table_schema, target.table_name, target.column_name, target.default_sql);
    END IF;
END
$enum_online$;
