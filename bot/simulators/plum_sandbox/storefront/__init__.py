"""Xoxoday's side of StoreFront: store sign-ins (SSO) and a small hosted store that spends
the company's points through the company's own endpoints (balance, profile, redeem, refund).
"""
