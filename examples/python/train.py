#!/usr/bin/env python3
"""Start a training job on the server and print its events as they stream in.

The server's warnings of the job's settings (Job.warnings: an SGDR cycle cut short, every learning
rate 0, ...) go to stderr first: the job runs as asked, but likely not as meant.

If the server restarts meanwhile (the stream ends UNAVAILABLE), the job resumes there from its
last checkpoint: this script reconnects and carries on from the last event it printed. Ctrl+C
stops watching; the job goes on training (StopJob, or `charrnn --server HOST:PORT --exec "stop JOB"`, stops it).

    ./generate_stubs.sh
    /usr/bin/python3 train.py --model lstm --arch stateful-lstm --epochs 1 --set n_hidden=256 --lower
"""
import argparse
import os
import sys
import time

import grpc

from channel import add_tls_ca_argument, open_channel, status_text

from charrnn.v1 import charrnn_pb2 as pb
from charrnn.v1 import charrnn_pb2_grpc as rpc


def describe(event: pb.JobEvent) -> str:
    kind = event.WhichOneof("event")
    e = getattr(event, kind)
    if kind == "queued":
        # A resume's (or a restarted job's) queued event is at the step it goes on from.
        return f"queued at position {e.position}" + (f", to go on from step {event.step}" if event.step else "")
    if kind == "started":
        # A run after a restart (or a resume) goes on from its checkpoint: say so, or the log reads as a fresh start.
        resumed = f", resumed from step {e.resumed_from_step}" if e.resumed_from_step else ""
        return f"started on {e.device}: {e.parameter_count:,} parameters, {e.total_steps} steps{resumed}"
    if kind == "progress":
        eta = f", ETA {e.eta_seconds:.0f}s" if e.HasField("eta_seconds") else ""
        return f"step {e.step}/{e.total_steps} epoch {e.epoch_progress:.2f} loss {e.loss:.3f} lr {e.learning_rate:.1e} {e.chars_per_second:,.0f} chars/s{eta}"
    if kind == "epoch_end":
        r = e.record
        return f"epoch {r.epoch}: train {r.train_loss:.4f} valid {r.valid_loss:.4f} nats/char, accuracy {r.valid_accuracy:.1%}\n  sample: {r.sample!r}"
    if kind == "checkpoint_saved":
        return f"checkpoint {e.file} ({e.reason})"
    if kind in ("finished", "failed", "stopped"):
        text = f"{kind}: {e.reason}"
        if kind != "failed" and e.HasField("final_valid_loss"):
            # The weights the job left; a job ended between epoch ends (max_steps, its time budget) validated them first.
            text += f" · validation loss {e.final_valid_loss:.4f} nats/char, accuracy {e.final_valid_accuracy:.1%}"
        if kind == "stopped" and e.HasField("epochs_completed"):
            # Where a resume goes on from, which the last progress event may be steps short of (unset: stopped before it started).
            text += f" · stands at {stands_at(e.epochs_completed, e.steps_into_epoch, e.batches_in_epoch)} (step {event.step})"
        return text
    return kind


def stands_at(epochs: int, steps_into_epoch: int, batches_in_epoch: int) -> str:
    """A stopped model's place: '2 epoch(s)' at an epoch's end, else '2 epoch(s) and 32 of 45 steps into epoch 3'."""
    if not steps_into_epoch:
        return f"{epochs} epoch(s)"
    return f"{epochs} epoch(s) and {steps_into_epoch} of {batches_in_epoch} steps into epoch {epochs + 1}"


def hyperparameter(text: str) -> tuple[str, float]:
    """--set NAME=VALUE, refused by argparse (usage and exit 2) when it is not that."""
    name, sep, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = None
    if not sep or not name or number is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=VALUE with a number, e.g. n_hidden=256")
    return name, number


def rates(text: str) -> list[float]:
    """--lr: one learning rate, or three (embedding,recurrent,output), refused by argparse when not numbers."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) not in (1, 3):
        raise argparse.ArgumentTypeError(f"'{text}' is not one learning rate or three (embedding,recurrent,output), e.g. 1e-3 or 0,1e-3,1e-3")
    return values


def print_warnings(job: pb.Job) -> None:
    """The server's warnings of the job's settings (empty from a server older than Job.warnings)."""
    for warning in job.warnings:
        print(f"warning: {warning}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="127.0.0.1:50051", help="HOST:PORT of the charrnn server")
    add_tls_ca_argument(parser)
    parser.add_argument("--token", default=os.environ.get("CHARRNN_TOKEN"),
                        help="API key of a server started with --keys (default: $CHARRNN_TOKEN)")
    parser.add_argument("--model", required=True, help="name of the model to create")
    parser.add_argument("--arch", default="stateful-lstm", help="architecture (see ListArchitectures)")
    parser.add_argument("--corpus", default="nietzsche", help="corpus name (see ListCorpora)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=0)
    parser.add_argument("--lr", type=rates, help="learning rate, or three: embedding,recurrent,output (default: the architecture's)")
    parser.add_argument("--lower", action="store_true", help="lowercase the corpus")
    parser.add_argument("--set", action="append", default=[], type=hyperparameter, metavar="NAME=VALUE", help="a hyperparameter, e.g. n_hidden=256")
    parser.add_argument("--check", action="store_true", help="only ask the server whether it would start the job (CheckJob), and exit")
    args = parser.parse_args()

    auth = [("authorization", f"Bearer {args.token}")] if args.token else None
    request = pb.StartJobRequest(model_name=args.model, architecture=args.arch, corpus_name=args.corpus)
    request.options.epochs = args.epochs
    request.options.max_steps = args.max_steps
    request.options.lowercase = args.lower
    request.options.learning_rate.extend(args.lr or [])
    for name, value in args.set:
        request.hyperparameters[name] = value

    with open_channel(args.server, args.tls_ca) as channel:
        training = rpc.TrainingStub(channel)
        if args.check:  # a dry run: every check StartJob makes, nothing queued
            try:
                job = training.CheckJob(request, metadata=auth)
            except grpc.RpcError as e:
                print(f"error: {status_text(e)}", file=sys.stderr)
                return 1
            print(f"would start: {job.architecture} model {job.model_name}")
            print_warnings(job)
            return 0
        # StartJob then WatchJob, as Train does in one call, for the Job StartJob answers with: its warnings.
        try:
            job = training.StartJob(request, metadata=auth)
        except grpc.RpcError as e:
            print(f"error: {status_text(e)}", file=sys.stderr)
            return 1
        print_warnings(job)
        last, reason = None, ""
        job_id, sequence, lost_since = job.id, -1, None
        events = training.WatchJob(pb.WatchJobRequest(job_id=job_id), metadata=auth)
        while True:
            try:
                for event in events:
                    lost_since = None
                    job_id, sequence = event.job_id, event.sequence
                    print(describe(event), flush=True)
                    last = event.WhichOneof("event")
                    if last == "stopped":
                        reason = event.stopped.reason
                break
            except grpc.RpcError as e:
                # A restart takes seconds; give it two minutes before giving up.
                if e.code() == grpc.StatusCode.UNAVAILABLE and job_id and (lost_since is None or time.monotonic() - lost_since < 120):
                    if lost_since is None:
                        print(f"server unavailable ({e.details()}); reconnecting to job {job_id}", file=sys.stderr)
                        lost_since = time.monotonic()
                    time.sleep(1)
                    # Numbered after everything printed, though a resumed run's steps go back to its checkpoint.
                    events = training.WatchJob(pb.WatchJobRequest(job_id=job_id, after_sequence=sequence), metadata=auth)
                    continue
                print(f"error: {status_text(e)}", file=sys.stderr)
                return 1
            except KeyboardInterrupt:
                print(f"\nstopped watching; job {job_id or '(not started)'} goes on", file=sys.stderr)
                return 130
    # A run that used up its time budget ends `stopped` (it can be resumed), as charrnn train's does: a success too.
    return 0 if last == "finished" or reason.startswith("time budget") else 1


if __name__ == "__main__":
    sys.exit(main())
