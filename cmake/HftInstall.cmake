# Install rules and the Debian package (CPack).
#
#   cmake --install build/release --prefix /opt/hft     any prefix; units name that prefix's programs
#   cmake --build build/release --target package        build/release/hft_<version>_amd64.deb (prefix /usr)
#
# Layout under PREFIX: bin/ (programs), lib/systemd/system/ (units configured at install time for
# that prefix), lib/tuned/hft-latency/ (tuned profile), share/doc/hft/ (README, docs/, examples/:
# configs and the sysctl file), share/hft/perf/ (the profiling scripts that work on an installed
# host). Configuration is read from /etc/hft when PREFIX is /usr, else PREFIX/etc/hft.
include(GNUInstallDirs)

set(HFT_INSTALLED_PROGRAMS hftd hftctl hft-exchange hft-itch hft-journal)
install(TARGETS ${HFT_INSTALLED_PROGRAMS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Units are configured when installing (not when configuring the build) so that a different
# `--prefix` or CPack's /usr gets paths that name the installed programs.
install(CODE "
  set(hft_prefix \"\${CMAKE_INSTALL_PREFIX}\")
  set(HFT_BINDIR \"\${hft_prefix}/${CMAKE_INSTALL_BINDIR}\")
  set(HFT_DOCDIR \"\${hft_prefix}/share/doc/hft\")
  if(hft_prefix STREQUAL \"/usr\")
    set(HFT_SYSCONFDIR /etc)
  else()
    set(HFT_SYSCONFDIR \"\${hft_prefix}/etc\")
  endif()
  foreach(unit hftd@.service hft-exchange@.service hft-journal-follow@.service)
    configure_file(\"${PROJECT_SOURCE_DIR}/systemd/\${unit}.in\"
                   \"\$ENV{DESTDIR}\${hft_prefix}/lib/systemd/system/\${unit}\" @ONLY)
    message(STATUS \"Installing: \$ENV{DESTDIR}\${hft_prefix}/lib/systemd/system/\${unit}\")
  endforeach()
")
install(FILES systemd/tuned/hft-latency/tuned.conf DESTINATION lib/tuned/hft-latency)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/hft)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/hft/docs FILES_MATCHING PATTERN "*.md")
install(FILES config/hftd-2core.toml config/hftd-4core.toml config/hftd-5core.toml tools/hft-exchange/example.toml
              systemd/sysctl.d-90-hft.conf
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/hft/examples)
install(PROGRAMS perf/record.sh perf/stat.sh perf/flamegraph.sh DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/hft/perf)
install(FILES perf/common.sh DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/hft/perf)
# hftctl serve's dashboard (found at ../share/hft/dashboard from the program) and the Grafana
# dashboard to import (docs/data.md).
install(FILES data/dashboard/index.html DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/hft/dashboard)
install(FILES data/grafana/hft.json DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/hft/grafana)

# ---- Debian package ------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hft)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "hft maintainers <hft@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# DESTDIR staging keeps CMAKE_INSTALL_PREFIX = /usr while installing, so the units say /usr/bin.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # hft_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: computed by dpkg-shlibdeps from the programs' NEEDED libraries, not written by hand.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "tuned, hwloc")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
