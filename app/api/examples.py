"""Example payloads for the OpenAPI docs: real inputs that give real answers.

IMAGE_7 is MNIST test digit 0 (a 7) redrawn 56×56 as black ink with alpha coverage
on a transparent background, the way a browser canvas exports it; PIXELS_2 is
MNIST test digit 1 (a 2), already prepared, grey levels rounded to 2 decimals."""

from __future__ import annotations

IMAGE_7 = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAADgAAAA4CAYAAACohjseAAAEM0lEQVR42u2aS28bVRiGH18akrSmpK"
    "njYJqKVqFEihDQcs8CNlwW/AMW/IH+J/YsYYUQUlvULriaqyBgCiFtoCGhidvYcX1h4WeUUZUg7HjGNppPOjrWzHjOec93e79zBh"
    "JJJJFEEkkkkUQSSSSRSCTV5fNp4AFgEsgBWaABtLxfB+4Au0AbaNoPTLJdPj8OnAYeB54GHgL+BmrevwV8Dax57a5gRwZgDrgALA"
    "HngSngtmDaAnwEWAWqgv/T36keLKtlqwIV+0Y3VtEtwBPA68CrwDRwJDSJltpa0kxrwAZwQ01mnHjrP4ALAN4T1HXgU6Dsgt6LCm"
    "DgV1VgMzSJNjCmf54Eit5r+tyOwFICTR/w7nZoAVJqawdYdpy6Y0cGcAN435WcdUJrTioPzAAF4GHglD6a97+VkJn/2wLu2GdDZj"
    "oBbGkZN+wjAVgBPtfHCiGATcHlbUXgUf0x7/01n581ChPypUBzO8A6cBRYcIHQKk64OJkog0wd+EOzKzuxuv1v+uSY0fa4i3Dayf"
    "/sc2edeJBCAr9sGpTKwDngIvCc4zYcc7Mb8+wFYBBI9gv9dw9IK0WBrNiXgQf3AdjSQtZdqGpIu5sGmpVu0063ALuVXeBmKDhh2v"
    "hrn1Df1vxOqcGZ0DtWgBLw/QELOTCA7RAJCIM+SKaBZ4AX/V1X41/Zb0Wd6KOWOeBNc+2UpnnZth4Hk4lKMgaeBeAp00zg1z+aBy"
    "u9vDg9JAAnBXZB0wxH7YqtOYoaTDmHon533vRSNxh9AfwuwNYoAsyawBeBVwSYM9e+C3wIfKupjiTAMf3tHDCvHzZkSteATyTXPd"
    "eUg/bBcSndGflmwHfLmub2YQvmYQB4xjZpzvwB+FIfbB52gGHS4DEZzmXgirw09oq+X5KWj87bCpLoVSnZspUFo6rBIO+9bHI/Jl"
    "P5SVK93WvUHLQGU1YKc8BLwAtG0ZpEuqTvNfppKnHnvRm195p5b8Iq/QpwtVdKNiwAc8CTbkwtylpqmmXJorg2ygDzwBuhaqFhrb"
    "cM/Go51Oy3ycSVDmbV3PNGzqD4Lck5++p7cQMsAG/pd495ran2PgI+NnIyqgBPWi08a1Bp6m+fyVquR6G9OAEe1/8Cvrml5j6gsx"
    "vXiGrgbAzAzup3BTV3G/jGlFBib4d85ABmDCZv0znLKOhnV4FLdDaQ+0KoBwHwiAl9Ucay4PV14Dt9b5UYjtaiyoMTwBN0zhDzoe"
    "tVgd2M0u+i1GDANYtGzOCQlFBquGNrxQEwHcGCTWuaS9Kyo/eNl2HvrHDkNDgmY5ln75AlLI24NBeVBsfpnC3MhXJeWIKT366OoY"
    "dJg8EO9dR9phkct10zwOzGpckogkwQaAKAbYvZd+SctzjEPmcvK97v/Bf+fmaDzmcll4D3gF/i1B4RRLKsAHNuKgVAt2UtA/1m5n"
    "8p/wAhqTcnrOw0cQAAAABJRU5ErkJggg=="
)

PIXELS_2: list[list[float]] = [
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.45, 0.49, 0.67, 1, 1, 0.59, 0.36, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0.66, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.85, 0.12, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0.66, 0.99, 0.99, 0.99, 0.84, 0.56, 0.69, 0.99, 0.99, 0.48, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0.2, 0.98, 0.99, 0.82, 0.13, 0.05, 0, 0.02, 0.81, 0.99, 0.55, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0],
    [0, 0, 0, 0, 0, 0, 0, 0.3, 0.98, 0.82, 0.1, 0, 0, 0, 0.48, 0.97, 0.99, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0.12, 0.07, 0, 0, 0, 0, 0.82, 0.99, 0.99, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.46, 0.97, 0.99, 0.78, 0.04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.3, 0.97, 0.99, 0.91, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 0.99, 0.99, 0.56, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.69, 0.96, 0.99, 0.62, 0.05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.1, 0.92, 0.99, 0.91, 0.14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.78, 0.99, 0.99, 0.55, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0.31, 0.97, 0.99, 0.74, 0.05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0.07, 0.78, 0.99, 0.99, 0.55, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0.53, 0.99, 0.99, 0.68, 0.05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0.97, 0.99, 0.99, 0.1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0.97, 0.99, 0.99, 0.17, 0.08, 0.08, 0.08, 0.08, 0.02, 0, 0.02, 0.08, 0.08, 0.15,
    0.59, 0.59, 0.59, 0.58, 0.04, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0.97, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.66, 0.56, 0.65, 0.99, 0.99, 0.99,
    0.99, 0.99, 0.99, 0.99, 0.48, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0.68, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.98, 0.97,
    0.97, 0.66, 0.46, 0.46, 0.22, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0.46, 0.48, 0.48, 0.48, 0.65, 0.99, 0.99, 0.99, 0.61, 0.48, 0.48, 0.16, 0, 0, 0,
    0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
]
