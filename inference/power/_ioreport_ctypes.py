"""The thin ctypes boundary to libIOReport and CoreFoundation (macOS only).

Nothing here runs at import time, so the module imports on any OS; constructing
IOReportEnergyModel off macOS raises OSError from the library load.

The IOReport functions are private and undocumented; their signatures below are the ones
open-source monitors (macmon, zeus-apple-silicon, socpowerbud) have used for years:
    CFDictionaryRef IOReportCopyChannelsInGroup(CFStringRef group, CFStringRef subgroup,
                                                uint64_t, uint64_t, uint64_t)
    IOReportSubscriptionRef IOReportCreateSubscription(void *, CFMutableDictionaryRef channels,
                                                       CFMutableDictionaryRef *subscribed,
                                                       uint64_t, CFTypeRef)
    CFDictionaryRef IOReportCreateSamples(IOReportSubscriptionRef, CFMutableDictionaryRef,
                                          CFTypeRef)
    CFDictionaryRef IOReportCreateSamplesDelta(CFDictionaryRef previous,
                                               CFDictionaryRef current, CFTypeRef)
    CFStringRef IOReportChannelGet{Group,SubGroup,ChannelName,UnitLabel}(CFDictionaryRef)
    int IOReportChannelGetFormat(CFDictionaryRef)
    int64_t IOReportSimpleGetIntegerValue(CFDictionaryRef, int32_t)
A sample is a CFDictionary whose "IOReportChannels" key holds a CFArray of channel
dictionaries. Copy/Create results are owned and released here; Get results are borrowed.
"""

from __future__ import annotations

import ctypes
from ctypes import (
    POINTER,
    byref,
    c_bool,
    c_char_p,
    c_int,
    c_int32,
    c_int64,
    c_long,
    c_uint32,
    c_uint64,
    c_void_p,
)

from inference.power.ioreport_channels import (
    ENERGY_MODEL_GROUP,
    ChannelReading,
    IOReportUnavailable,
)
from inference.power.sensor import SensorReadError

_IOREPORT_LIBRARY = "/usr/lib/libIOReport.dylib"
_COREFOUNDATION_LIBRARY = "/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation"
_CF_STRING_ENCODING_UTF8 = 0x08000100
_IOREPORT_FORMAT_SIMPLE = 1
_CHANNELS_KEY = "IOReportChannels"
_NAME_BUFFER_BYTES = 256


def _declare(function: object, argtypes: list[object], restype: object) -> None:
    function.argtypes = argtypes  # type: ignore[attr-defined]
    function.restype = restype  # type: ignore[attr-defined]


class _Libraries:
    """libIOReport and CoreFoundation with every function's C signature declared.

    Declaring restype as c_void_p matters: the ctypes default (int) truncates 64-bit
    pointers on arm64.
    """

    def __init__(self) -> None:
        cf = ctypes.CDLL(_COREFOUNDATION_LIBRARY)
        ior = ctypes.CDLL(_IOREPORT_LIBRARY)
        _declare(cf.CFStringCreateWithCString, [c_void_p, c_char_p, c_uint32], c_void_p)
        _declare(cf.CFStringGetCString, [c_void_p, c_char_p, c_long, c_uint32], c_bool)
        _declare(cf.CFRelease, [c_void_p], None)
        _declare(cf.CFDictionaryGetCount, [c_void_p], c_long)
        _declare(cf.CFDictionaryCreateMutableCopy, [c_void_p, c_long, c_void_p], c_void_p)
        _declare(cf.CFDictionaryGetValue, [c_void_p, c_void_p], c_void_p)
        _declare(cf.CFArrayGetCount, [c_void_p], c_long)
        _declare(cf.CFArrayGetValueAtIndex, [c_void_p, c_long], c_void_p)
        _declare(
            ior.IOReportCopyChannelsInGroup,
            [c_void_p, c_void_p, c_uint64, c_uint64, c_uint64],
            c_void_p,
        )
        _declare(
            ior.IOReportCreateSubscription,
            [c_void_p, c_void_p, POINTER(c_void_p), c_uint64, c_void_p],
            c_void_p,
        )
        _declare(ior.IOReportCreateSamples, [c_void_p, c_void_p, c_void_p], c_void_p)
        _declare(ior.IOReportCreateSamplesDelta, [c_void_p, c_void_p, c_void_p], c_void_p)
        for getter in ("Group", "SubGroup", "ChannelName", "UnitLabel"):
            _declare(getattr(ior, f"IOReportChannelGet{getter}"), [c_void_p], c_void_p)
        _declare(ior.IOReportChannelGetFormat, [c_void_p], c_int)
        _declare(ior.IOReportSimpleGetIntegerValue, [c_void_p, c_int32], c_int64)
        self.cf = cf
        self.ior = ior

    def cf_string(self, text: str) -> int:
        """An owned CFString; the caller releases it."""
        ref = self.cf.CFStringCreateWithCString(None, text.encode(), _CF_STRING_ENCODING_UTF8)
        if not ref:
            raise IOReportUnavailable(f"CFStringCreateWithCString failed for {text!r}")
        return ref

    def python_string(self, ref: int | None) -> str:
        if not ref:
            return ""
        buffer = ctypes.create_string_buffer(_NAME_BUFFER_BYTES)
        if not self.cf.CFStringGetCString(
            ref, buffer, _NAME_BUFFER_BYTES, _CF_STRING_ENCODING_UTF8
        ):
            return ""
        return buffer.value.decode("utf-8", "replace")

    def release(self, ref: int | None) -> None:
        if ref:
            self.cf.CFRelease(ref)


class IOReportEnergyModel:
    """A live subscription to the Energy Model group; yields per-channel deltas."""

    def __init__(self) -> None:
        libs = _Libraries()
        self._libs = libs
        self._channels: int | None = None
        self._subscription: int | None = None
        self._previous: int | None = None

        group = libs.cf_string(ENERGY_MODEL_GROUP)
        try:
            group_channels = libs.ior.IOReportCopyChannelsInGroup(group, None, 0, 0, 0)
        finally:
            libs.release(group)
        if not group_channels:
            raise IOReportUnavailable("no Energy Model channel group (Apple silicon only)")
        try:
            size = libs.cf.CFDictionaryGetCount(group_channels)
            # The subscription wants a mutable dictionary.
            self._channels = libs.cf.CFDictionaryCreateMutableCopy(None, size, group_channels)
        finally:
            libs.release(group_channels)
        if not self._channels:
            raise IOReportUnavailable("could not copy the Energy Model channel list")

        # The subscribed-channels out-parameter is left unreleased on purpose: its ownership is
        # undocumented, and releasing a borrowed object would crash the app.
        subscribed = c_void_p()
        self._subscription = libs.ior.IOReportCreateSubscription(
            None, self._channels, byref(subscribed), 0, None
        )
        if not self._subscription:
            self.close()
            raise IOReportUnavailable("IOReportCreateSubscription refused the Energy Model group")
        self._previous = libs.ior.IOReportCreateSamples(self._subscription, self._channels, None)
        if not self._previous:
            self.close()
            raise IOReportUnavailable("IOReportCreateSamples returned nothing")

    def delta_since_last(self) -> list[ChannelReading]:
        libs = self._libs
        if self._subscription is None:
            raise SensorReadError("IOReport subscription is closed")
        current = libs.ior.IOReportCreateSamples(self._subscription, self._channels, None)
        if not current:
            raise SensorReadError("IOReportCreateSamples returned nothing")
        delta = libs.ior.IOReportCreateSamplesDelta(self._previous, current, None)
        libs.release(self._previous)
        self._previous = current
        if not delta:
            raise SensorReadError("IOReportCreateSamplesDelta returned nothing")
        try:
            return self._channel_readings(delta)
        finally:
            libs.release(delta)

    def _channel_readings(self, sample: int) -> list[ChannelReading]:
        libs = self._libs
        key = libs.cf_string(_CHANNELS_KEY)
        try:
            channel_array = libs.cf.CFDictionaryGetValue(sample, key)
        finally:
            libs.release(key)
        if not channel_array:
            return []
        readings = []
        for index in range(libs.cf.CFArrayGetCount(channel_array)):
            item = libs.cf.CFArrayGetValueAtIndex(channel_array, index)
            if not item or libs.ior.IOReportChannelGetFormat(item) != _IOREPORT_FORMAT_SIMPLE:
                continue
            readings.append(
                ChannelReading(
                    group=libs.python_string(libs.ior.IOReportChannelGetGroup(item)),
                    subgroup=libs.python_string(libs.ior.IOReportChannelGetSubGroup(item)),
                    channel=libs.python_string(libs.ior.IOReportChannelGetChannelName(item)),
                    unit=libs.python_string(libs.ior.IOReportChannelGetUnitLabel(item)).strip(),
                    value=int(libs.ior.IOReportSimpleGetIntegerValue(item, 0)),
                )
            )
        return readings

    def close(self) -> None:
        libs = self._libs
        for attribute in ("_previous", "_subscription", "_channels"):
            libs.release(getattr(self, attribute))
            setattr(self, attribute, None)
