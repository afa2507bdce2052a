"""Face pre- and post-processing in numpy: letterbox and CenterFace decoding, face crops, emotion labels."""
