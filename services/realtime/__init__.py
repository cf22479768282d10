"""The tick path and Socket.IO: the tick bus (in process and over Redis), fan-out, the websocket handlers,
payloads, the tick writer and the feed jobs.
"""
