"""Run the stand-in notary (and TSA) alone: python -m trustmock --port 8200 [--hmac-key K] [--certificates DIR]."""
import argparse

from trustmock.server import NotaryState, create_standalone_app


def main() -> None:
    parser = argparse.ArgumentParser(description="stand-in notary data centre and time-stamping authority")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--hmac-key", default="dev-notary-key")
    parser.add_argument("--certificates", help="development certificate directory (documents.dev_certificate_dir)")
    args = parser.parse_args()
    app = create_standalone_app(NotaryState(hmac_key=args.hmac_key), args.certificates)
    app.run(host=args.host, port=args.port, single_process=True, access_log=False)


if __name__ == "__main__":
    main()
