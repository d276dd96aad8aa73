"""The DynamoDB stand-in: moto server (Apache-2.0, pinned in infra/requirements-dev.txt), one request at a time.

Why a launcher of our own instead of `moto_server`:

1. moto is exact only when requests reach it one at a time. Measured with 16 threads charging one item, plain
   moto server accepted 320 charges against 300 credits and left 381 ledger entries for 320 transactions: its
   conditions and writes are not atomic with respect to each other. DynamoDB's transactions are serializable, so
   running every request alone, in arrival order, is a legal (stricter) execution of the same API. Every request
   here runs under one lock, response body included (SerializedApp).

2. Two of moto's algorithms cost time in the size of the whole table, which a test suite that shares one stack
   makes large:
   - TransactWriteItems deep-copies every table it touches before it starts (its rollback), streams included;
     with tens of thousands of items a charge takes seconds. Under the lock an undo log of the items it touched is
     the same rollback (transact_write_items below): every item the transaction wrote is put back as it was, and
     the stream records it appended are removed, so a cancelled transaction leaves no trace, as in DynamoDB.
   - Query walks and sorts every item of the table to find one partition. A Query names one partition key; when
     that key is the table's own hash key (the base table, or a GSI keyed by the same attribute, as `history` is),
     only that partition can match, so only it is walked (restricted_query). Other GSIs keep moto's full walk.
   Both are checked by the fidelity tests (infra/local-runner StandInFidelityTest) and by every exactness test.

3. GetShardIterator at a sequence number the shard does not hold: moto hands out an iterator, and GetRecords then
   fails with a 500 (before the shard's first record) or reads nothing (past its last). DynamoDB refuses the iterator:
   TrimmedDataAccessException before the trim horizon, ValidationException for a number past the shard's records
   (checked_shard_iterator). The dead-letter redrive tells "gone from the stream" by these answers.

Nothing else of moto is changed. The patches target moto 5.2.5 (pinned); the launcher refuses another version.

Usage: moto_dynamodb.py --port N [--host 127.0.0.1] [--parent-pid P]
With --parent-pid it exits when that process is gone, so a killed JVM never leaves a server behind.
"""

import argparse
import copy
import logging
import os
import sys
import threading
import time

import moto
from werkzeug.serving import run_simple

PINNED_MOTO = "5.2.5"

# One lock for every request the server answers: the serialization that makes moto exact.
LOCK = threading.Lock()


class SerializedApp:
    """A WSGI app that runs the wrapped app, and reads its whole response, while holding LOCK."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        with LOCK:
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


def patch_dynamodb():
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.comparisons import get_filter_expression as condition_of

    def key_of(table, op_type, op):
        if op_type == "Put":
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
            return key
        return op["Key"]

    def transact_write_items(self, transact_items):
        """DynamoDB's TransactWriteItems with an item-level undo log instead of a copy of every table touched.

        Same outcomes as moto 5.2.5's own: each item is checked and written in order; a validation error (or two
        operations on one item) undoes everything and fails the request; any item whose condition fails (or whose
        write fails) makes the whole transaction cancelled, with one reason per item in request order (None for an
        item that passed; ALL_OLD's item when asked for and the item exists), and undoes everything.
        """
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        undo = []  # (table, hash value, range value or None, the item before this transaction or None)
        remembered = set()
        stream_lengths = {}  # table name -> stream records before this transaction
        targets = set()

        def remember(table, key):
            if table.name not in stream_lengths and table.stream_shard is not None:
                stream_lengths[table.name] = len(table.stream_shard.items)
            h = DynamoType(key[table.hash_key_attr])
            r = DynamoType(key[table.range_key_attr]) if table.range_key_attr is not None else None
            ident = (table.name, h, r)
            if ident in remembered:
                return
            remembered.add(ident)
            bucket = table.items.get(h)
            before = bucket if r is None else (bucket.get(r) if bucket is not None else None)
            undo.append((table, h, r, copy.deepcopy(before) if before is not None else None))

        def rollback():
            for table, h, r, before in reversed(undo):
                if r is None:
                    if before is None:
                        table.items.pop(h, None)
                    else:
                        table.items[h] = before
                else:
                    bucket = table.items.get(h)
                    if before is None:
                        if bucket is not None:
                            bucket.pop(r, None)
                            if not bucket:
                                table.items.pop(h, None)
                    else:
                        table.items[h][r] = before
            for name, length in stream_lengths.items():
                del self.tables[name].stream_shard.items[length:]

        errors = []
        for item in transact_items:
            found = None
            if len(list(item.keys())) > 1:
                rollback()
                raise TransactWriteSingleOpException
            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")
                table_name = op["TableName"]
                table = self.get_table(table_name)
                key = key_of(table, op_type, op)
                target = (str(table_name), str(dict(sorted(key.items()))))
                if target in targets:
                    raise MultipleTransactionsException()
                targets.add(target)
                condition = op.get("ConditionExpression")
                names = op.get("ExpressionAttributeNames")
                values = op.get("ExpressionAttributeValues")
                current = self.get_item(table_name, key)
                if condition is not None:
                    if not condition_of(condition, names, values).expr(current):
                        if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                            found = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=found)
                if op_type != "ConditionCheck":
                    remember(table, key)
                if op_type == "Put":
                    self.put_item(table_name, op["Item"], condition_expression=condition,
                                  expression_attribute_names=names, expression_attribute_values=values)
                elif op_type == "Delete":
                    self.delete_item(table_name, key, condition_expression=condition,
                                     expression_attribute_names=names, expression_attribute_values=values)
                elif op_type == "Update":
                    self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                     condition_expression=condition, expression_attribute_names=names,
                                     expression_attribute_values=values)
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                rollback()
                raise
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), found))
            except Exception as e:  # noqa: BLE001 - moto reports any other failure as that item's reason
                errors.append((type(e).__name__, str(e), found))
        if any(code is not None for code, _, _ in errors):
            rollback()
            raise TransactionCanceledException(errors)

    DynamoDBBackend.transact_write_items = transact_write_items

    original_query = Table.query
    original_all_items = Table.all_items

    def restricted_query(self, hash_key, *args, **kwargs):
        """moto's Query, walking only the named partition when the key condition names the table's hash key."""
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        partition = None
        if index_name is None:
            partition = hash_key
        else:
            conditions = kwargs.get("hash_key_conditions") or []
            if len(conditions) == 1 and conditions[0][0] == self.hash_key_attr:
                partition = conditions[0][1]
        self._only_partition = partition
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            self._only_partition = None

    def all_items(self):
        partition = getattr(self, "_only_partition", None)
        if partition is None:
            return original_all_items(self)
        bucket = self.items.get(partition)
        if bucket is None:
            return []
        if not self.range_key_attr:
            return [bucket]
        return sorted(bucket.values(), key=lambda x: x.range_key)

    Table.query = restricted_query
    Table.all_items = all_items


def patch_streams():
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    original = DynamoDBStreamsBackend.get_shard_iterator

    def checked_shard_iterator(self, arn, shard_id, shard_iterator_type, sequence_number=None):
        if shard_iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER") and sequence_number is not None:
            shard = self._get_table_from_arn(arn).stream_shard
            first = shard.starting_sequence_number
            number = int(sequence_number)
            if number < first:
                raise JsonRESTError("TrimmedDataAccessException",
                                    f"sequence number {sequence_number} is before the shard's trim horizon")
            if number >= first + len(shard.items):
                raise JsonRESTError("ValidationException",
                                    f"Invalid SequenceNumber {sequence_number} for shard {shard_id}")
            sequence_number = number
        return original(self, arn, shard_id, shard_iterator_type, sequence_number)

    DynamoDBStreamsBackend.get_shard_iterator = checked_shard_iterator


def exit_with_parent(parent_pid):
    def watch():
        while True:
            try:
                os.kill(parent_pid, 0)
            except OSError:
                os._exit(0)
            time.sleep(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, default=0)
    args = parser.parse_args(argv)
    if moto.__version__ != PINNED_MOTO:
        sys.exit(f"moto {moto.__version__} is installed; this launcher's patches are written for {PINNED_MOTO}")
    os.environ.setdefault("MOTO_PORT", str(args.port))
    patch_dynamodb()
    patch_streams()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    if args.parent_pid:
        exit_with_parent(args.parent_pid)
    app = SerializedApp(DomainDispatcherApplication(create_backend_app))
    # one line per request to stderr costs time under the lock and says nothing a test reads
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
