"""Run the emulator by hand.

python -m qbo_emulator --port 8765 --seed demo --client-id ID --client-secret S
"""

import argparse
import logging
import threading

from .server import Emulator


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m qbo_emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--seed", choices=("demo", "empty"), default="demo")
    parser.add_argument("--client-id", default="client-id")
    parser.add_argument("--client-secret", default="client-secret")
    parser.add_argument("--verifier-token", default=None, help="webhook verifier token")
    parser.add_argument("--access-token-ttl", type=int, default=3600, help="access token lifetime in seconds")
    parser.add_argument("--seed-scale", type=int, default=1, help="multiply the demo data volume")
    parser.add_argument("--webhook-url", default=None, help="POST change notifications here")
    parser.add_argument("--webhook-format", choices=("classic", "cloudevents"), default="classic")
    parser.add_argument(
        "--webhook-retries",
        default="1,2,4",
        help="seconds before each new try of a late (over 3 s) or failed delivery, comma-separated",
    )
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="switch the 10/s and 500/min throttle off"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    emu = Emulator(
        seed=args.seed,
        client_id=args.client_id,
        client_secret=args.client_secret,
        verifier_token=args.verifier_token,
        access_token_ttl=args.access_token_ttl,
        seed_scale=args.seed_scale,
        rate_limits=not args.no_rate_limits,
        port=args.port,
        webhook_url=args.webhook_url,
        webhook_format=args.webhook_format,
        webhook_retry_delays=tuple(float(s) for s in args.webhook_retries.split(",") if s.strip()),
    ).start()
    print(
        f"QBO emulator on {emu.base_url}  realm {emu.realm_id}  (seed {args.seed} x{args.seed_scale})",
        flush=True,
    )
    print(
        f"  authorize {emu.base_url}/oauth2/authorize   token {emu.base_url}/oauth2/v1/tokens/bearer",
        flush=True,
    )
    print(f"  api       {emu.api_url}/{emu.realm_id}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
