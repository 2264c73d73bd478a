#!/usr/bin/env python3
"""Train a small model on a text file of your own and see how well it reads a sentence it never saw.

Uploads FILE as a corpus (UploadCorpus), trains a model on it (StartJob, the server's warnings of
its settings to stderr, then WatchJob, printing its events), opens a session on the model, feeds the held-out sentence (Feed, which scores it: nats and bits per char),
generates a few chars after it, and with --cleanup deletes the corpus again (DeleteCorpus; the
model stays and still generates). A job the server refuses (a model name taken, a quota) deletes an
upload this run made new, so it does not count against the key's max_corpora_per_key: CheckJob cannot
check the job first, since it needs the corpus to be there.

    ./generate_stubs.sh
    /usr/bin/python3 train_on_file.py my-notes.txt --model notes --max-steps 300 --held-out "a sentence kept out of the file"
"""
import argparse
import math
import os
import sys

import grpc

from channel import add_tls_ca_argument, open_channel, status_text
from generate import bounded
from train import describe, hyperparameter

from charrnn.v1 import charrnn_pb2 as pb
from charrnn.v1 import charrnn_pb2_grpc as rpc

CHUNK_BYTES = 64 * 1024  # each data message; the server takes up to Limits.max_message_bytes (1 MiB or more)


def upload_messages(name: str, replace: bool, path: str):
    """The UploadCorpus stream: the header first, then the file's bytes in pieces (the server checks the UTF-8)."""
    yield pb.UploadCorpusRequest(header=pb.UploadCorpusHeader(name=name, replace=replace))
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            yield pb.UploadCorpusRequest(data=chunk)


# What a server too old to report Limits.max_epochs (0) takes by default (`charrnn serve --max-epochs`).
DEFAULT_MAX_EPOCHS = 10_000


def epochs_to_reach(max_steps: int, max_epochs: int) -> int:
    """Epochs enough that max_steps, not the end of an epoch, ends the job: at most the server's limit."""
    return min(max_steps, max_epochs or DEFAULT_MAX_EPOCHS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", help="a UTF-8 text file to train on")
    parser.add_argument("--server", default="127.0.0.1:50051", help="HOST:PORT of the charrnn server")
    add_tls_ca_argument(parser)
    parser.add_argument("--token", default=os.environ.get("CHARRNN_TOKEN"),
                        help="API key of a server started with --keys (default: $CHARRNN_TOKEN)")
    parser.add_argument("--corpus", help="name to upload it as (default: the file's name without its extension)")
    parser.add_argument("--replace", action="store_true", help="replace an earlier upload of that name")
    parser.add_argument("--model", required=True, help="name of the model to create")
    parser.add_argument("--arch", default="stateful-gru", help="architecture (see ListArchitectures)")
    parser.add_argument("--max-steps", type=bounded(int, 1), default=300, help="training steps, over as many epochs as that takes (default: 300)")
    parser.add_argument("--set", action="append", default=[], type=hyperparameter, metavar="NAME=VALUE", help="a hyperparameter, e.g. n_hidden=128")
    parser.add_argument("--held-out", required=True, metavar="TEXT", help="a sentence not in the file (in its characters: others are refused), to score the model on")
    parser.add_argument("-n", "--chars", type=bounded(int, 1), default=80, help="characters to generate after it (default: 80)")
    parser.add_argument("--cleanup", action="store_true", help="delete the uploaded corpus at the end")
    args = parser.parse_args()
    if not os.path.isfile(args.file):
        parser.error(f"{args.file} is not a file")
    corpus = args.corpus or os.path.splitext(os.path.basename(args.file))[0]
    auth = [("authorization", f"Bearer {args.token}")] if args.token else None

    with open_channel(args.server, args.tls_ca) as channel:
        catalog, training, generation = rpc.CatalogStub(channel), rpc.TrainingStub(channel), rpc.GenerationStub(channel)
        uploaded = False  # stored by this run (new, or replacing an earlier upload)
        new_upload = False  # and not there before: nothing of the key's is lost if it goes again
        job_started = False
        try:
            # Without --replace an upload of a taken name is refused, so a stored one is new; with it, ask first.
            new_upload = not args.replace or not any(
                c.name == corpus and c.uploaded for c in catalog.ListCorpora(pb.ListCorporaRequest(), metadata=auth).corpora)
            info = catalog.UploadCorpus(upload_messages(corpus, args.replace, args.file), metadata=auth)
            uploaded = True
            print(f"uploaded corpus {info.name}: {info.characters:,} characters, sha256 {info.sha256[:12]}", flush=True)

            request = pb.StartJobRequest(model_name=args.model, architecture=args.arch, corpus_name=info.name)
            request.options.max_steps = args.max_steps
            # The job's default is one epoch, which on a small file ends before max_steps: ask for as many epochs as
            # the server takes (an epoch is at least one step, so max_steps of them reach it) and let max_steps end the run.
            request.options.epochs = epochs_to_reach(args.max_steps, catalog.GetServerInfo(pb.GetServerInfoRequest(), metadata=auth).limits.max_epochs)
            for name, value in args.set:
                request.hyperparameters[name] = value
            # StartJob then WatchJob, as Train does in one call, for the Job StartJob answers with: the server's warnings of
            # its settings (Job.warnings: an SGDR cycle cut short, every rate 0, ...), on stderr; the job runs as asked.
            job = training.StartJob(request, metadata=auth)
            job_started = True  # StartJob answered: the server has taken the job
            for warning in job.warnings:
                print(f"warning: {warning}", file=sys.stderr, flush=True)
            last = None
            for event in training.WatchJob(pb.WatchJobRequest(job_id=job.id), metadata=auth):
                print(describe(event), flush=True)
                last = event.WhichOneof("event")
            if last != "finished":
                return 1

            session = generation.OpenSession(pb.OpenSessionRequest(model_name=args.model), metadata=auth)
            try:
                # A fresh session: the first char is scored from the corpus's char frequencies, the rest from the model.
                score = generation.Feed(pb.FeedRequest(session_id=session.id, text=args.held_out), metadata=auth)
                print(f"held-out score: {score.loss:.3f} nats/char = {score.loss / math.log(2):.3f} bits/char "
                      f"over {score.characters_scored} chars, {score.accuracy:.0%} predicted")
                text = "".join(piece.text for piece in generation.Generate(
                    pb.GenerateRequest(session_id=session.id, max_chars=args.chars, chars_per_message=64), metadata=auth))
                print(f"continued: {args.held_out}{text}")
            finally:
                try:  # left open, it would hold a place in the key's session quota until it expired
                    generation.CloseSession(pb.CloseSessionRequest(session_id=session.id), metadata=auth, timeout=5)
                except grpc.RpcError:
                    pass  # the server is gone or has closed it already
        except grpc.RpcError as e:
            print(f"error: {status_text(e)}", file=sys.stderr)
            return 1
        except OSError as e:
            print(f"error: {args.file}: {e.strerror}", file=sys.stderr)
            return 1
        finally:
            # A refused job leaves no new upload behind: it would hold a place in the key's max_corpora_per_key.
            refused = uploaded and new_upload and not job_started
            if uploaded and (args.cleanup or refused):
                try:
                    catalog.DeleteCorpus(pb.DeleteCorpusRequest(name=corpus), metadata=auth)
                    print(f"deleted corpus {corpus}" + ("" if args.cleanup else ": the job was not started"))
                except grpc.RpcError as e:
                    print(f"error: deleting corpus {corpus}: {status_text(e)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
