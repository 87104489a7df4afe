# language: vi
Tính năng: Quy tắc tính ngày hẹn trả theo cách luật viết thời hạn
  Là người cấu hình thủ tục của Sở Giáo dục và Đào tạo
  Tôi muốn mỗi cách viết thời hạn cho đúng ngày hẹn trả qua các kỳ nghỉ năm 2026
  Để thời hạn ghi trong thủ tục và ngày hẹn in trên giấy tiếp nhận khớp với văn bản pháp luật
  (giờ làm việc 07:30–11:30, 13:30–17:00; Tết 16–20/02; 30/4–1/5; nghỉ 31/8 đổi lấy làm bù thứ Bảy 22/8; 1–2/9)

  Khung kịch bản: Ngày hẹn trả theo từng cách luật viết thời hạn
    Cho thời hạn luật định <số> "<đơn vị>" với giờ chốt "<giờ chốt>"
    Khi hồ sơ được tiếp nhận lúc "<tiếp nhận>"
    Thì ngày hẹn trả là "<hẹn trả>"

    # Trong ngày (same_working_day, 1, chốt 15:00):
    #  1. 10:00 thứ Hai 02/03 trước 15:00 → 17:00 cùng ngày.
    #  2. 15:00 đúng giờ chốt là "sau 15 giờ" → 17:00 thứ Ba 03/03.
    #  3. 14:00 thứ Sáu 13/02 trước Tết, trước 15:00 → 17:00 13/02.
    #  4. thứ Sáu 21/08 16:30 sau 15:00 → thứ Bảy 22/08 là ngày làm bù → 17:00 22/08.
    #  5. 3 ngày kể cả ngày nhận: 13/02, (Tết), 23/02, 24/02 → 17:00 24/02.
    # Giờ làm việc: 6. 40 giờ từ 09:00 28/08: 28/08 6 giờ; 31/08–02/09 nghỉ; 03, 04, 07, 08/09 30 giờ
    #    (36); 09/09 4 giờ → 11:30 09/09.  7. 4 giờ, chốt 15:00, nhận 15:30 02/03 → từ 07:30 03/03 → 11:30.
    # Ngày làm việc: 8. 3 ngày từ 09:00 28/04: 29/04, 04/05, 05/05 → 09:00 05/05.
    #    9. 1 ngày từ 09:00 thứ Sáu 21/08 → thứ Bảy 22/08 làm bù, 09:00.  10. 1 ngày từ 28/08 → 03/09.
    # Ngày (calendar_days, BLDS 2015 Điều 147, 148): 11. 7 ngày từ 10/02 → 17/02 là Tết → hết ngày
    #    làm việc tiếp theo 23/02, 17:00.  12. 2 ngày từ 28/04 → 30/04 nghỉ lễ → 17:00 04/05.
    #    13. 10 ngày từ thứ Hai 24/08 → thứ Năm 03/09 là ngày làm việc → 17:00 03/09.
    Dữ liệu:
      | số | đơn vị           | giờ chốt | tiếp nhận        | hẹn trả          |
      | 1  | same_working_day | 15:00    | 2026-03-02 10:00 | 2026-03-02 17:00 |
      | 1  | same_working_day | 15:00    | 2026-03-02 15:00 | 2026-03-03 17:00 |
      | 1  | same_working_day | 15:00    | 2026-02-13 14:00 | 2026-02-13 17:00 |
      | 1  | same_working_day | 15:00    | 2026-08-21 16:30 | 2026-08-22 17:00 |
      | 3  | same_working_day | 15:00    | 2026-02-13 09:00 | 2026-02-24 17:00 |
      | 40 | working_hours    | không    | 2026-08-28 09:00 | 2026-09-09 11:30 |
      | 4  | working_hours    | 15:00    | 2026-03-02 15:30 | 2026-03-03 11:30 |
      | 3  | working_days     | không    | 2026-04-28 09:00 | 2026-05-05 09:00 |
      | 1  | working_days     | không    | 2026-08-21 09:00 | 2026-08-22 09:00 |
      | 1  | working_days     | không    | 2026-08-28 09:00 | 2026-09-03 09:00 |
      | 7  | calendar_days    | không    | 2026-02-10 09:00 | 2026-02-23 17:00 |
      | 2  | calendar_days    | không    | 2026-04-28 10:00 | 2026-05-04 17:00 |
      | 10 | calendar_days    | không    | 2026-08-24 10:00 | 2026-09-03 17:00 |
