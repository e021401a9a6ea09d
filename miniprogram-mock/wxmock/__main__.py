"""Run the stand-in WeChat API alone: python -m wxmock --port 8100 [--appid ... --secret ...]."""
import argparse

from wxmock.server import MockState, create_standalone_app


def main() -> None:
    parser = argparse.ArgumentParser(description="stand-in WeChat API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--appid", default="wxdevappid0000001")
    parser.add_argument("--secret", default="dev-secret")
    args = parser.parse_args()
    app = create_standalone_app(MockState(appid=args.appid, secret=args.secret))
    app.run(host=args.host, port=args.port, single_process=True, access_log=False)


if __name__ == "__main__":
    main()
