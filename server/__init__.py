"""一窗通 mini-program backend: 云帮办 review, remote signing and 码上导办."""
