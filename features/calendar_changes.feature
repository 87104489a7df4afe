# language: vi
Tính năng: Điều chỉnh lịch làm việc áp dụng cho hồ sơ đang giải quyết
  Là quản trị hệ thống của Sở Giáo dục và Đào tạo
  Tôi muốn ngày nghỉ hoặc ngày làm bù mới khai báo được tính lại cho mọi hồ sơ đang mở
  Để hạn tiếp nhận 8 giờ làm việc và hạn xử lý từng bước đúng với lịch mới, còn ngày hẹn đã in
  trên giấy tiếp nhận được giữ nguyên và, nếu rơi vào ngày nghỉ, được hẹn lại bằng Mẫu 04
  (giờ làm việc 07:30–11:30, 13:30–17:00)

  Kịch bản: Ngày nghỉ mới dời hạn tiếp nhận 8 giờ làm việc của hồ sơ trực tuyến đang chờ
    Cho thời điểm hiện tại là "2026-11-27 15:00"
    Khi công dân nộp hồ sơ trực tuyến thủ tục "diploma_copy" với người nộp "Phạm Thị Lan"
    # 8 giờ làm việc từ 15:00 thứ Sáu 27/11: 27/11 15:00–17:00 (2 giờ); thứ Hai 30/11 07:30–11:30
    # (6 giờ), 13:30–15:30 (8 giờ).
    Thì hạn tiếp nhận là "2026-11-30 15:30"
    Khi thời gian trôi tới "2026-11-27 16:00"
    Và quản trị hệ thống khai báo ngày "2026-11-30" là ngày nghỉ theo "Quyết định số 45/QĐ-UBND ngày 27/11/2026"
    # Thứ Hai 30/11 nghỉ: 2 giờ ngày 27/11; thứ Ba 01/12 07:30–11:30 (6 giờ), 13:30–15:30 (8 giờ).
    Thì hạn tiếp nhận là "2026-12-01 15:30"
    Và nhật ký hồ sơ có sự kiện "calendar_changed"
    Và dựng lại hồ sơ tại sự kiện cuối khớp với trạng thái hệ thống đang lưu
    Khi thời gian trôi tới "2026-12-01 09:00"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
      """
    # Theo hạn cũ (15:30 30/11) đã quá hạn; theo lịch mới còn trong hạn.
    Thì việc tiếp nhận được xếp loại "on_time"
    Và dựng lại hồ sơ tại sự kiện cuối khớp với trạng thái hệ thống đang lưu

  Kịch bản: Ngày làm bù mới khai báo rút ngắn hạn tiếp nhận của hồ sơ trực tuyến đang chờ
    Cho thời điểm hiện tại là "2026-11-27 15:00"
    Khi công dân nộp hồ sơ trực tuyến thủ tục "diploma_copy" với người nộp "Đỗ Văn Nam"
    Thì hạn tiếp nhận là "2026-11-30 15:30"
    Khi thời gian trôi tới "2026-11-27 16:00"
    Và quản trị hệ thống khai báo ngày "2026-11-28" là ngày làm bù theo "Thông báo số 12/TB-UBND ngày 20/11/2026"
    # Thứ Bảy 28/11 làm bù: 2 giờ ngày 27/11; 28/11 07:30–11:30 (6 giờ), 13:30–15:30 (8 giờ).
    Thì hạn tiếp nhận là "2026-11-28 15:30"
    Và dựng lại hồ sơ tại sự kiện cuối khớp với trạng thái hệ thống đang lưu

  Kịch bản: Ngày hẹn đã in rơi vào ngày nghỉ mới được giữ nguyên, gắn cờ và hẹn lại bằng Mẫu 04
    Cho thời điểm hiện tại là "2026-11-02 09:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "student_transfer" với người nộp "Lê Minh Châu"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
      """
    # 40 giờ làm việc từ 09:00 thứ Hai 02/11: 02/11 6 giờ; 03–06/11 4 × 7,5 = 30 giờ (36);
    # thứ Hai 09/11 07:30–11:30 (40). Bước kiểm tra 8 giờ: 6 giờ ngày 02/11, 03/11 07:30–09:30.
    Thì hạn trả kết quả là "2026-11-09 11:30"
    Và hạn xử lý bước "check_dossier" là "2026-11-03 09:30"
    Khi thời gian trôi tới "2026-11-02 10:00"
    Và quản trị hệ thống khai báo ngày "2026-11-03" là ngày nghỉ theo "Quyết định số 50/QĐ-UBND ngày 02/11/2026"
    # Bước kiểm tra: 6 giờ ngày 02/11; 03/11 nghỉ; 04/11 07:30–09:30. Ngày hẹn đã in giữ nguyên.
    Thì hạn xử lý bước "check_dossier" là "2026-11-04 09:30"
    Và hạn trả kết quả là "2026-11-09 11:30"
    Và hồ sơ không bị gắn cờ "appointment_on_day_off"
    Khi thời gian trôi tới "2026-11-02 10:30"
    Và quản trị hệ thống khai báo ngày "2026-11-09" là ngày nghỉ theo "Quyết định số 51/QĐ-UBND ngày 02/11/2026"
    Thì hạn trả kết quả là "2026-11-09 11:30"
    Và hồ sơ bị gắn cờ "appointment_on_day_off"
    # Gợi ý hẹn lại: cuối giờ làm việc trước đó (17:00 thứ Sáu 06/11) hoặc đầu giờ sau đó (07:30 thứ Ba 10/11).
    Và ngày hẹn gợi ý là "2026-11-06 17:00" hoặc "2026-11-10 07:30"
    Và dựng lại hồ sơ tại sự kiện cuối khớp với trạng thái hệ thống đang lưu
    Khi lãnh đạo phòng ban hành phiếu xin lỗi hẹn lại do điều chỉnh lịch ngày "2026-11-10 11:30"
    Thì hạn trả kết quả là "2026-11-10 11:30"
    Và hồ sơ không bị gắn cờ "appointment_on_day_off"
    Và hồ sơ không bị tính là trễ hạn do phiếu xin lỗi
    Và số phiếu xin lỗi do sai sót là 1
    Và dựng lại hồ sơ tại sự kiện cuối khớp với trạng thái hệ thống đang lưu

  Kịch bản: Phiếu xin lỗi vì sai sót, có hoặc không hẹn lại, không làm hồ sơ trễ hạn
    Cho thời điểm hiện tại là "2026-03-02 09:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "diploma_copy" với người nộp "Ngô Thị Hà"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
      """
    # Trong ngày làm việc, tiếp nhận trước 15:00 → 17:00 cùng ngày.
    Thì hạn trả kết quả là "2026-03-02 17:00"
    Khi thời gian trôi tới "2026-03-02 10:00"
    Và lãnh đạo phòng ban hành phiếu xin lỗi vì sai sót "Ghi sai họ tên người nộp trên giấy tiếp nhận" không hẹn lại
    Thì hạn trả kết quả là "2026-03-02 17:00"
    Và số phiếu xin lỗi do sai sót là 1
    Khi thời gian trôi tới "2026-03-02 14:00"
    Và lãnh đạo phòng ban hành phiếu xin lỗi vì sai sót "Tra nhầm sổ gốc năm 2012" hẹn lại ngày "2026-03-03 10:00"
    Thì hạn trả kết quả là "2026-03-03 10:00"
    Và số phiếu xin lỗi do sai sót là 2
    Khi thời gian trôi tới "2026-03-03 08:00"
    Và chuyên viên hoàn thành bước "verify_register" với dữ liệu:
      """
      {"found": true, "register_ref": "Sổ gốc 2013, số 41", "copies": 1, "bulk": false}
      """
    Và thời gian trôi tới "2026-03-03 09:00"
    Và lãnh đạo phòng hoàn thành bước "approve_copy" với dữ liệu:
      """
      {"approved": true}
      """
    # Xong 09:00 03/3, trước ngày hẹn mới 10:00 03/3 cùng ngày: đúng hạn; phiếu xin lỗi vì sai sót không tính trễ.
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "on_time"
    Và hồ sơ không bị tính là trễ hạn do phiếu xin lỗi
    Và dựng lại hồ sơ tại sự kiện cuối khớp với trạng thái hệ thống đang lưu
