#!/usr/bin/env python3
"""Open a session on a trained model and print generated text as it streams in.

    ./generate_stubs.sh
    /usr/bin/python3 generate.py --model lstm --prime "for thos" -n 400 --temperature 0.8
    /usr/bin/python3 generate.py --model lstm --temperature 1.5 --min-p 0.1 --seed 7   # coherent at a high temperature

The prime goes with the first Generate call (GenerateRequest.prime), whose first response says how many of its
characters the session's UNKNOWN_CHARS_SKIP left out (--skip-unknown); without it such a prime is refused.
"""
import argparse
import os
import sys

import grpc

from channel import add_tls_ca_argument, open_channel, status_text

from charrnn.v1 import charrnn_pb2 as pb
from charrnn.v1 import charrnn_pb2_grpc as rpc


def bounded(kind, low, high=None, *, above_low=False, below_high=False):
    """An argparse type: a number of `kind` from low (to high), else a usage error naming the range. above_low and
    below_high leave the bound itself out, as the proto's (0, 1] of top_p and [0, 1) of min_p do."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if (value is None or value != value or value < low or (above_low and value == low)
                or (high is not None and (value > high or (below_high and value == high)))):
            raise argparse.ArgumentTypeError(f"'{text}' is not allowed; use {allowed}")
        return value
    allowed = (f"more than {low}" if above_low else f"{low}") + (
        " or more" if high is None else f" up to, not including, {high}" if below_high else f", at most {high}" if above_low else f" to {high}")
    return parse


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="127.0.0.1:50051", help="HOST:PORT of the charrnn server")
    add_tls_ca_argument(parser)
    parser.add_argument("--token", default=os.environ.get("CHARRNN_TOKEN"),
                        help="API key of a server started with --keys (default: $CHARRNN_TOKEN)")
    parser.add_argument("--model", required=True, help="model name (see ListModels)")
    parser.add_argument("--prime", default="for thos", help="text the model continues")
    parser.add_argument("--skip-unknown", action="store_true",
                        help="leave out of the prime the characters the model cannot read (the session's unknown_chars "
                             "UNKNOWN_CHARS_SKIP) and say how many on stderr; without it such a prime is refused")
    parser.add_argument("-n", "--chars", type=bounded(int, 1), default=400,
                        help="characters to generate (1 or more; the server's Limits.max_chars_per_call at most)")
    parser.add_argument("--temperature", type=bounded(float, 0, 10), default=0.8, help="0 (greedy) to 10 (default: 0.8)")
    parser.add_argument("--top-k", type=bounded(int, 0, 2**31 - 1), default=None,
                        help="sample among the k likeliest characters (0 or more; default: the server's, 0: all)")
    parser.add_argument("--top-p", type=bounded(float, 0, 1, above_low=True), default=None,
                        help="sample from the smallest set of characters whose probability reaches p "
                             "(more than 0, at most 1; default: the server's, 1: all)")
    parser.add_argument("--min-p", type=bounded(float, 0, 1, below_high=True), default=None,
                        help="sample only among the characters at least min_p times as likely as the likeliest "
                             "(0 up to, not including, 1; default: the server's, 0: all)")
    parser.add_argument("--seed", type=bounded(int, 0, 2**64 - 1), default=None,
                        help="0 to 2^64-1 (a uint64): the same seed gives the same text")
    parser.add_argument("--chars-per-message", type=bounded(int, 1, 256), default=1,
                        help="characters the server gathers into each message (1 to 256; more suits bulk reading)")
    parser.add_argument("--coalesce", action=argparse.BooleanOptionalAction, default=True,
                        help="let the server join the characters that wait behind a slow reader into one message "
                             "(each still comes as soon as it is sampled when we keep up; default: on)")
    args = parser.parse_args()
    auth = [("authorization", f"Bearer {args.token}")] if args.token else None

    with open_channel(args.server, args.tls_ca) as channel:
        generation = rpc.GenerationStub(channel)
        sampling = pb.SamplingSettings(temperature=args.temperature)
        for field in ("top_k", "top_p", "min_p", "seed"):  # each left unset, not sent as 0, unless given
            if getattr(args, field) is not None:
                setattr(sampling, field, getattr(args, field))
        try:
            unknown_chars = pb.UNKNOWN_CHARS_SKIP if args.skip_unknown else pb.UNKNOWN_CHARS_REFUSE
            session = generation.OpenSession(pb.OpenSessionRequest(model_name=args.model, sampling=sampling, unknown_chars=unknown_chars),
                                             metadata=auth)
        except grpc.RpcError as e:
            print(f"error: {status_text(e)}", file=sys.stderr)
            return 1
        started = False  # the prime is printed once the first response shows the call was accepted
        try:
            # A message per sampled character (or per --chars-per-message; with coalesce, what was ready
            # when it was sent): print each as it arrives. The prime is fed first, by this call: its first
            # message counts what --skip-unknown left out of it (OpenSession's answer would not say).
            request = pb.GenerateRequest(session_id=session.id, prime=args.prime, max_chars=args.chars,
                                         chars_per_message=args.chars_per_message, coalesce=args.coalesce)
            stream = generation.Generate(request, metadata=auth)
            for piece in stream:
                if not started:
                    if piece.prime_unknown_chars_skipped > 0:
                        print(f"{piece.prime_unknown_chars_skipped} unknown char(s) skipped from the prime", file=sys.stderr, flush=True)
                    print(args.prime, end="", flush=True)  # as given: what was left out of it is not known here
                    started = True
                print(piece.text, end="", flush=True)
            print(flush=True)  # flushed here, where a closed pipe is caught, not at exit
        except BrokenPipeError:
            # The reader is gone (`generate.py | head -c 100`): stop quietly, as `charrnn generate | head` does. Cancel the
            # stream so the server stops generating (the session is closed below), and point stdout at devnull so that
            # Python's flush at exit does not raise again (the Python docs' recipe for SIGPIPE).
            stream.cancel()
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except grpc.RpcError as e:
            print(("\n" if started else "") + f"error: {status_text(e)}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            if started:
                print()
            return 130
        finally:
            # Whatever ended the stream, the session goes: left open, it would hold a place in the key's
            # session quota until it expired.
            try:
                generation.CloseSession(pb.CloseSessionRequest(session_id=session.id), metadata=auth, timeout=5)
            except grpc.RpcError:
                pass  # the server is gone or has closed it already
    return 0


if __name__ == "__main__":
    sys.exit(main())
